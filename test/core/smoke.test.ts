import { strict as assert } from 'node:assert';
import { onnx } from '../../src/core';

describe('smoke', () => {
  it('has the schema', () => assert.equal(onnx.TensorProto.DataType.INT2, 26));
});
