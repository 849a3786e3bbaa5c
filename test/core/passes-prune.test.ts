import { strict as assert } from 'node:assert';
import { encodeModel, OnnxModel, pruneChannels, pruneMagnitude, storeWeightsSparse } from '../../src/core';
import { attr, DataType, floatTensor, graph, int64Tensor, model, node, randomFloats, valueInfo } from '../support/model-builder';
import { OrtRunner } from '../support/ort-runner';
import {
  checkerFailures, convModel, Generated, minimum, mlpInIfModel, mlpModel, openGenerated, outputCosines, runAll,
} from '../support/pass-harness';

async function floatsOf(m: OnnxModel, name: string): Promise<Float32Array> {
  const weight = m.weights().find((w) => w.name === name) ?? assert.fail(`no weight ${name}`);
  return (await weight.tensor.floats()) as Float32Array;
}

const countBelow = (values: Float32Array, threshold: number) => values.filter((v) => Math.abs(v) < threshold).length;
const zeros = (values: ArrayLike<number>) => Array.from(values).filter((v) => v === 0).length;

describe('passes: pruning', () => {
  const runner = new OrtRunner();
  after(() => runner.close());

  async function runs(generated: Generated, changed: OnnxModel): Promise<number> {
    const [reference, candidate] = await runAll(runner, [encodeModel(generated.proto), changed.encode()], generated.feedSets);
    return minimum(outputCosines(reference, candidate));
  }

  describe('magnitude', () => {
    it('zeros exactly the values below an absolute threshold', async () => {
      const original = openGenerated(mlpModel());
      const before = await floatsOf(original, 'fc1.weight');
      const expected = countBelow(before, 0.05);
      const { model: result, report } = await pruneMagnitude(original, { threshold: 0.05, layers: ['fc1'] });
      const after = await floatsOf(result, 'fc1.weight');
      assert.equal(zeros(after), expected);
      for (let i = 0; i < after.length; i++) assert.equal(after[i], Math.abs(before[i]) < 0.05 ? 0 : before[i]);
      assert.equal(report.tensors[0].sparsityAfter, expected / before.length);
      assert.ok(zeros(before) === 0 && zeros(await floatsOf(original, 'fc1.weight')) === 0, 'the input model changed');
    });

    it('takes a threshold relative to each layer\'s max |w|', async () => {
      const original = openGenerated(mlpModel());
      const before = await floatsOf(original, 'fc2.weight');
      const max = before.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const { model: result } = await pruneMagnitude(original, { threshold: 0.3, relative: true, layers: ['fc2'] });
      assert.equal(zeros(await floatsOf(result, 'fc2.weight')), countBelow(before, 0.3 * max));
    });

    it('reaches an exact per-layer sparsity, smallest magnitudes first', async () => {
      const original = openGenerated(mlpModel());
      const { model: result, report } = await pruneMagnitude(original, { sparsity: 0.7 });
      for (const change of report.tensors) {
        const before = await floatsOf(original, change.name);
        const after = await floatsOf(result, change.name);
        assert.equal(zeros(after), Math.round(0.7 * before.length), change.name);
        const largestRemoved = Math.max(...before.filter((_, i) => after[i] === 0).map(Math.abs));
        const smallestKept = Math.min(...Array.from(after).filter((v) => v !== 0).map(Math.abs));
        assert.ok(largestRemoved <= smallestKept, change.name);
        assert.ok(change.energyRemoved! > 0 && change.energyRemoved! < 0.7);
        assert.ok(change.gzipBytesAfter! < change.gzipBytesBefore! * 0.6, `${change.name}: gzip ${change.gzipBytesBefore} -> ${change.gzipBytesAfter}`);
        assert.equal(change.bytesAfter, change.bytesBefore, 'dense zeros take the same raw bytes');
      }
    });

    it('ranks one global threshold over all selected layers', async () => {
      const original = openGenerated(mlpModel());
      const names = ['fc1.weight', 'fc2.weight', 'fc3.weight'];
      const { model: result } = await pruneMagnitude(original, { globalSparsity: 0.5 });
      const before = await Promise.all(names.map((name) => floatsOf(original, name)));
      const after = await Promise.all(names.map((name) => floatsOf(result, name)));
      const total = before.reduce((n, values) => n + values.length, 0);
      assert.equal(after.reduce((n, values) => n + zeros(values), 0), Math.round(0.5 * total));
      const removed = before.flatMap((values, t) => Array.from(values).filter((_, i) => after[t][i] === 0).map(Math.abs));
      const kept = after.flatMap((values) => Array.from(values).filter((v) => v !== 0).map(Math.abs));
      assert.ok(Math.max(...removed) <= Math.min(...kept));
      // fc3 has the largest weights (fan-in 64 vs 128): it loses less than the others.
      assert.ok(zeros(after[2]) / after[2].length < zeros(after[1]) / after[1].length);
    });

    it('stores a layer sparse where that is smaller, and the model still runs the same', async () => {
      const generated = mlpInIfModel();
      const original = openGenerated(generated);
      const dense = await pruneMagnitude(original, { sparsity: 0.9 });
      const sparse = await pruneMagnitude(original, { sparsity: 0.9, sparseStorage: true });
      const [denseBytes, sparseBytes] = [dense.model.encode().byteLength, sparse.model.encode().byteLength];
      assert.ok(sparseBytes < denseBytes * 0.5, `${sparseBytes} vs ${denseBytes} bytes`);
      assert.ok(sparse.report.weightBytes.after < sparse.report.weightBytes.before * 0.4);
      const fc1 = sparse.report.tensors.find((t) => t.name === 'then_fc1.weight')!;
      assert.match(fc1.scheme, /sparse: 819 of 8192 values stored/);
      assert.equal(fc1.bytesAfter, 819 * 12);
      const [a, b] = await runAll(runner, [dense.model.encode(), sparse.model.encode()], generated.feedSets);
      assert.deepEqual(b, a, 'sparse storage changed the outputs');
      assert.deepEqual(checkerFailures([{ label: 'sparse', proto: sparse.model.proto }]), []);
    });

    it('leaves a weight dense when sparse storage would be larger', async () => {
      const { model: pruned } = await pruneMagnitude(openGenerated(mlpModel()), { sparsity: 0.5 });
      const { report } = await storeWeightsSparse(pruned);
      assert.equal(report.tensors.length, 0);
      assert.match(report.skipped.find((s) => s.layer === 'main::fc1')!.reason, /too few zeros for sparse storage \(12 bytes per non-zero\)/);
    });
  });

  describe('channels', () => {
    it('removes 25% of a Conv\'s channels with its bias, BatchNormalization and the next Conv\'s inputs; the model runs', async () => {
      const generated = convModel();
      const { model: result, report } = await pruneChannels(openGenerated(generated), { fraction: 0.25, layers: ['conv1'] });
      const dims = new Map(result.weights().map((w) => [w.name, w.dims.join(',')]));
      assert.equal(dims.get('conv1.weight'), '12,3,3,3');
      assert.equal(dims.get('conv1.bias'), '12');
      for (const parameter of ['scale', 'bias', 'mean', 'var']) assert.equal(dims.get(`bn1.${parameter}`), '12');
      assert.equal(dims.get('conv2.weight'), '32,12,3,3');
      for (const change of report.tensors) assert.equal(change.bytesAfter, change.bytesBefore * 0.75, change.name);
      await runs(generated, result);
      assert.deepEqual(checkerFailures([{ label: 'channels', proto: result.proto }]), []);
    });

    it('prunes every chain it can follow in a Conv network, through pooling, Flatten after a global pool, and into Gemm', async () => {
      const generated = convModel('constant');
      const { model: result, report } = await pruneChannels(openGenerated(generated), { fraction: 0.25 });
      const dims = new Map(result.weights().map((w) => [w.name, w.dims.join(',')]));
      assert.equal(dims.get('conv2.weight'), '24,12,3,3');
      assert.equal(dims.get('conv3.weight'), '12,24,1,1');
      assert.equal(dims.get('fc.weight'), '10,12');
      assert.match(report.skipped.find((s) => s.layer === 'main::fc')!.reason, /^Gemm "fc" feeds the graph output "y", whose shape would change\.$/);
      await runs(generated, result);
      assert.deepEqual(checkerFailures([{ label: 'all channels', proto: result.proto }]), []);
    });

    it('prunes Gemm and MatMul chains of an MLP, with the Add bias between them', async () => {
      const generated = mlpModel();
      const { model: result } = await pruneChannels(openGenerated(generated), { fraction: 0.25, layers: ['fc1', 'fc2'] });
      const dims = new Map(result.weights().map((w) => [w.name, w.dims.join(',')]));
      assert.equal(dims.get('fc1.weight'), '96,64');
      assert.equal(dims.get('fc1.bias'), '96');
      assert.equal(dims.get('fc2.weight'), '96,48');
      assert.equal(dims.get('fc2.bias'), '48');
      assert.equal(dims.get('fc3.weight'), '48,10');
      await runs(generated, result);
    });

    for (const [label, tail, reason] of [
      ['a residual Add', [node('Add', ['r', 'x'], ['y'], [], 'residual')], /reaches Add "residual", whose other input is computed \(a residual connection\)\.$/],
      ['Concat', [node('Concat', ['r', 'x'], ['y'], [attr.int('axis', 1)], 'join')], /reaches Concat "join", which ONNX Lens cannot follow channels through\.$/],
      ['Reshape', [node('Reshape', ['r', 'shape'], ['y'], [], 'reshape')], /reaches Reshape "reshape", which ONNX Lens cannot follow channels through\.$/],
      ['Flatten of a spatial map', [node('Flatten', ['r'], ['f'], [], 'flatten'), node('Gemm', ['f', 'fc'], ['y'], [attr.int('transB', 1)], 'fc')], /reaches Flatten "flatten", which merges channels with spatial positions/],
      ['a grouped Conv', [node('Conv', ['r', 'dw'], ['y'], [attr.int('group', 8)], 'depthwise')], /reaches Conv "depthwise", a grouped Conv/],
    ] as const) {
      it(`refuses a chain into ${label}, with the reason`, async () => {
        const g = graph({
          nodes: [node('Conv', ['x', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1])], 'conv'), node('Relu', ['c'], ['r'], [], 'relu'), ...tail],
          inputs: [valueInfo('x', DataType.FLOAT, [1, 8, 4, 4])], outputs: [valueInfo('y', DataType.FLOAT, [])],
          initializers: [
            floatTensor('w', [8, 8, 3, 3], randomFloats(576, 1)), floatTensor('fc', [4, 128], randomFloats(512, 2)),
            floatTensor('dw', [8, 1, 3, 3], randomFloats(72, 3)), int64Tensor('shape', [2], [1, -1]),
          ],
        });
        const original = OnnxModel.fromBytes(encodeModel(model(g)));
        const { report } = await pruneChannels(original, { fraction: 0.5 });
        assert.match(report.skipped.find((s) => s.layer === 'main::conv')!.reason, reason);
        await assert.rejects(pruneChannels(original, { fraction: 0.5, layers: ['conv'] }), reason);
      });
    }
  });

  it('keeps magnitude pruning exact for a run in ONNX Runtime (a pruned model is a valid model)', async () => {
    const generated = convModel();
    const { model: result } = await pruneMagnitude(openGenerated(generated), { sparsity: 0.3 });
    const cosine = await runs(generated, result);
    assert.ok(cosine > 0.9, `cosine ${cosine}`);
    assert.deepEqual(checkerFailures([{ label: 'magnitude', proto: result.proto }]), []);
  });
});
