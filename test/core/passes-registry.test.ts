import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel, layerPasses, OnnxModel, openModelShared, quantizeDynamicInt8, WeightInfo } from '../../src/core';
import { quantizePerTensor } from '../../src/core/quant/quantize-math';
import { encodedLength } from '../../src/core/passes/encoded-length';
import { quantizeInt8PerTensor } from '../../src/core/passes/weight-quantizer';
import { REAL_MODELS } from '../support/fixtures';
import { DataType, floatTensor, graph, model, node, randomFloats, valueInfo } from '../support/model-builder';
import { attentionModel, openGenerated } from '../support/pass-harness';

describe('passes: registry and arithmetic', () => {
  it('says for each layer which passes apply, and why the others do not, in one sentence naming the node', () => {
    const answers = layerPasses(openGenerated(attentionModel()));
    const query = answers.find((a) => a.layer === 'main::query/MatMul')!;
    const applies = (pass: string) => query.passes.find((p) => p.pass === pass)!;
    for (const pass of ['int8', 'dynamic-int8', 'float16', 'int4', 'prune-magnitude']) assert.equal(applies(pass).applies, true, pass);
    assert.deepEqual(applies('int8').weights, ['query.weight']);
    // Its bias Add is followed (a per-channel constant); the head split is not.
    assert.equal(applies('prune-channels').reason, 'MatMul "query/MatMul" reaches Reshape "qh/Reshape", which ONNX Lens cannot follow channels through.');
    const gather = answers.find((a) => a.layer === 'main::embeddings/Gather')!;
    assert.match(gather.passes.find((p) => p.pass === 'int4')!.reason!, /^Gather "embeddings\/Gather" has no int4 block-wise \(MatMulNBits\) form; .*\.$/);
    for (const answer of answers) {
      for (const pass of answer.passes) {
        if (pass.applies) continue;
        assert.ok(pass.reason!.endsWith('.') && pass.reason!.includes(answer.layer.split('::')[1]), pass.reason);
      }
    }
  });

  it('refuses dynamic int8 for an LSTM and says what applies instead', async () => {
    const answers = layerPasses(await OnnxModel.open(REAL_MODELS.sileroLegacy));
    const lstm = answers.find((a) => a.opType === 'LSTM')!;
    const dynamic = lstm.passes.find((p) => p.pass === 'dynamic-int8')!;
    assert.equal(dynamic.applies, false);
    assert.match(dynamic.reason!, /has no dynamic int8 form; int8 weight-only, float16 and magnitude pruning apply to its weights\.$/);
    assert.equal(lstm.passes.find((p) => p.pass === 'int8')!.applies, true);
  });

  it('counts a model\'s encoded size exactly without encoding it', async () => {
    for (const file of Object.values(REAL_MODELS)) {
      const original = await OnnxModel.open(file);
      assert.equal(encodedLength(original.proto), original.bytes.byteLength, file);
    }
  });

  it('streams per-tensor int8 to the same integers as quantizePerTensor, halves to even included', async () => {
    const values = randomFloats(100_003, 5, 3);
    const scale = quantizePerTensor(values).scales[0];
    for (let i = 0; i < 50; i++) values[i * 7] = (i - 25 + 0.5) * scale; // exact ties
    const tensor = floatTensor('w', [values.length], values);
    // Unaligned raw data, as most tensors of a real file: the kernel copies it through a small buffer.
    const shifted = new Uint8Array(tensor.rawData!.length + 1).subarray(1);
    shifted.set(tensor.rawData!);
    tensor.rawData = shifted;
    const weight = OnnxModel.fromBytes(encodeModel(model(graph({ nodes: [node('Identity', ['w'], ['y'])], initializers: [tensor], outputs: [valueInfo('y', DataType.FLOAT, [values.length])] })))).weights()[0] as WeightInfo;
    const streamed = await quantizeInt8PerTensor(weight);
    const reference = quantizePerTensor(values);
    assert.equal(streamed.scales[0], reference.scales[0]);
    assert.deepEqual(Buffer.from(streamed.values.buffer), Buffer.from(reference.values.buffer));
  });

  it('quantizes a model in shared memory on worker threads, to the same bytes as in the calling thread', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-shared-'));
    try {
      const g = graph({
        nodes: [node('MatMul', ['x', 'w1'], ['h'], [], 'mm1'), node('MatMul', ['h', 'w2'], ['y'], [], 'mm2')],
        inputs: [valueInfo('x', DataType.FLOAT, [2, 512])], outputs: [valueInfo('y', DataType.FLOAT, [2, 128])],
        initializers: [floatTensor('w1', [512, 256], randomFloats(512 * 256, 1)), floatTensor('w2', [256, 128], randomFloats(256 * 128, 2))],
      });
      const file = path.join(folder, 'm.onnx');
      writeFileSync(file, encodeModel(model(g)));
      const shared = await quantizeDynamicInt8(await openModelShared(file));
      const local = await quantizeDynamicInt8(await OnnxModel.open(file));
      assert.ok(Buffer.from(shared.model.encode()).equals(Buffer.from(local.model.encode())));
      assert.deepEqual(shared.report, local.report);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
