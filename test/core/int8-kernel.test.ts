import { strict as assert } from 'node:assert';
import { maxAbsolute, quantizeRawInt8PerTensor } from '../../src/core/passes/int8-kernel';
import { quantizePerTensor } from '../../src/core/quant/quantize-math';
import { randomFloats } from '../support/model-builder';

/** The float32 values' bytes starting one byte into a buffer, as protobuf often places raw_data. */
function misalignedBytes(values: Float32Array): Uint8Array {
  const buffer = new Uint8Array(values.byteLength + 1);
  buffer.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 1);
  return buffer.subarray(1);
}

describe('streaming int8 kernel', () => {
  it('finds the largest magnitude, negative or positive, odd length or even', () => {
    assert.equal(maxAbsolute(Float32Array.of(0.5, -3, 2)), 3);
    assert.equal(maxAbsolute(Float32Array.of(-0, 1e-45, 0)), Math.fround(1e-45));
    assert.equal(maxAbsolute(Float32Array.of(1, 2.5)), 2.5);
    assert.equal(maxAbsolute(new Float32Array(0)), 0);
  });

  it('reports infinity and NaN wherever they sit', () => {
    assert.equal(maxAbsolute(Float32Array.of(1, -Infinity, 2)), Infinity);
    for (const at of [0, 1, 2]) {
      const values = Float32Array.of(1, 2, 3);
      values[at] = NaN;
      assert.ok(Number.isNaN(maxAbsolute(values)), `NaN at ${at}`);
    }
  });

  it('gives the same integers and scale as quantizePerTensor, from misaligned bytes too', () => {
    for (const length of [1, 2, 7, 4097]) {
      const values = randomFloats(length, length);
      const expected = quantizePerTensor(values);
      for (const raw of [new Uint8Array(values.buffer), misalignedBytes(values)]) {
        const result = quantizeRawInt8PerTensor(raw);
        assert.equal(result.scale, expected.scales[0]);
        assert.deepEqual(Array.from(result.values), Array.from(expected.values));
      }
    }
  });

  it('maps ±max|w| to ±127 whichever way the float32 scale rounds, never past int8', () => {
    const maxima = randomFloats(10_000, 5, 1e3);
    for (const max of maxima) {
      const { values } = quantizeRawInt8PerTensor(new Uint8Array(Float32Array.of(max, -max, max / 2).buffer));
      assert.deepEqual(Array.from(values.subarray(0, 2)), max > 0 ? [127, -127] : [-127, 127], `max ${max}`);
    }
  });

  it('gives a non-finite scale for a tensor holding NaN', () => {
    assert.ok(!Number.isFinite(quantizeRawInt8PerTensor(new Uint8Array(Float32Array.of(1, NaN).buffer)).scale));
  });
});
