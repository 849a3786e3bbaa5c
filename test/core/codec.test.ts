import { strict as assert } from 'node:assert';
import { decodeModel, encodeModel, ModelFormatError, OnnxModel, TensorDataError } from '../../src/core';
import { toLong } from '../../src/core/onnx/int64';
import { DataType, encode, floatTensor, graph, model, node, valueInfo } from '../support/model-builder';

function richModel() {
  const matmul = node('MatMul', ['x', 'W'], ['y'], [], 'mm');
  matmul.metadataProps = [{ key: 'source', value: 'layer.py:3' }];
  matmul.deviceConfigurations = [{ configurationId: 'c', shardingSpec: [{ tensorName: 'W', device: [toLong(0)] }] }];
  const g = graph({
    name: 'rich', nodes: [matmul],
    inputs: [valueInfo('x', DataType.FLOAT, ['N', 2])], outputs: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    initializers: [floatTensor('W', [2, 2], [1, 2, 3, 4])],
  });
  g.quantizationAnnotation = [{ tensorName: 'W', quantParameterTensorNames: [{ key: 'SCALE_TENSOR', value: 's' }] }];
  g.valueInfo = [valueInfo('y', DataType.FLOAT, ['N', 2])];
  g.metadataProps = [{ key: 'g', value: '1' }];
  const m = model(g);
  m.docString = 'doc';
  m.metadataProps = [{ key: 'author', value: 'tests' }];
  m.trainingInfo = [{ algorithm: graph({ name: 'train', nodes: [] }), updateBinding: [{ key: 'W', value: 'W2' }] }];
  m.functions = [{ name: 'f', domain: 'local', overload: 'v2', input: ['a'], output: ['b'], node: [node('Identity', ['a'], ['b'])] }];
  m.configuration = [{ name: 'c', numDevices: 2, device: ['gpu0', 'gpu1'] }];
  return m;
}

/** Appends a field to a message encoding: tag (field << 3 | wireType) then payload. */
function withField(bytes: Uint8Array, fieldNumber: number, wireType: number, payload: number[]): Uint8Array {
  return Uint8Array.from([...bytes, ...varint((fieldNumber << 3) | wireType), ...payload]);
}

function varint(value: number): number[] {
  const out: number[] = [];
  for (; value >= 0x80; value = Math.floor(value / 128)) out.push((value & 0x7f) | 0x80);
  return [...out, value];
}

function lengthDelimited(fieldNumber: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([(fieldNumber << 3) | 2, ...varint(payload.length), ...payload]);
}

describe('codec', () => {
  it('keeps every field of the current IR through decode and encode', () => {
    const original = encode(richModel());
    const reencoded = encodeModel(decodeModel(original));
    assert.deepEqual(Buffer.from(reencoded), Buffer.from(original));
    const decoded = decodeModel(reencoded);
    assert.equal(decoded.functions[0].overload, 'v2');
    assert.equal(decoded.graph?.node?.[0].deviceConfigurations?.[0].shardingSpec?.[0].tensorName, 'W');
    assert.equal(decoded.trainingInfo[0].updateBinding?.[0].value, 'W2');
    assert.equal(decoded.configuration[0].device?.[1], 'gpu1');
  });

  it('keeps fields from a newer IR that this schema does not know', () => {
    const unknownField = withField(encode(richModel()), 99, 0, [42]);
    assert.deepEqual(Buffer.from(encodeModel(decodeModel(unknownField))), Buffer.from(unknownField));
  });

  it('keeps int64 values beyond 2^53 exactly', () => {
    const slice = node('Slice', ['x', 's', 'e'], ['y'], [{ name: 'ends', ints: [toLong(9223372036854775807n), toLong(-9223372036854775808n)] }]);
    const decoded = decodeModel(encodeModel(model(graph({ nodes: [slice] }))));
    assert.deepEqual(decoded.graph?.node?.[0].attribute?.[0].ints?.map(String), ['9223372036854775807', '-9223372036854775808']);
  });

  describe('bad input', () => {
    const original = encode(richModel());

    it('reports truncation with the byte offset, at every cut point', () => {
      for (let cut = 1; cut < original.length; cut++) {
        try {
          decodeModel(original.subarray(0, cut));
        } catch (error) {
          assert.ok(error instanceof ModelFormatError, `cut at ${cut}: ${String(error)}`);
          assert.match(error.message, /byte offset \d+/);
          continue;
        }
        // Cutting exactly between two top-level fields leaves a shorter but well-formed model.
      }
    });

    it('reports garbage bytes as not a model', () => {
      const garbage = Uint8Array.from({ length: 256 }, (_, i) => (i * 131 + 7) & 0xff);
      assert.throws(() => decodeModel(garbage), ModelFormatError);
    });

    it('names the field and offset of a wrong wire type', () => {
      // Field 7 (graph) of ModelProto must be length-delimited; here it arrives as a varint.
      const corrupt = withField(original, 7, 0, [1]);
      assert.throws(() => decodeModel(corrupt), (error: unknown) =>
        error instanceof ModelFormatError && /field 7 of ModelProto at byte offset \d+ has wire type 0/.test(error.message)
        && error.byteOffset === original.length);
    });

    it('reports nesting beyond the protobuf limit', () => {
      // Built by hand: protobufjs refuses to encode past the same limit.
      let graphBytes: Uint8Array = new Uint8Array();
      for (let depth = 0; depth < 60; depth++) {
        const attribute = lengthDelimited(6, graphBytes);
        graphBytes = lengthDelimited(1, lengthDelimited(5, attribute));
      }
      assert.throws(() => decodeModel(lengthDelimited(7, graphBytes)), (error: unknown) => error instanceof ModelFormatError && /nested deeper/.test(error.message));
    });

    it('names the tensor whose data does not match its shape', () => {
      const m = model(graph({ nodes: [], initializers: [floatTensor('conv1.weight', [2, 2], [1, 2, 3])] }));
      assert.throws(() => OnnxModel.fromBytes(encode(m)), (error: unknown) =>
        error instanceof TensorDataError && error.tensorName === 'conv1.weight' && /should hold 16 bytes, but holds 12/.test(error.message));
    });
  });
});
