/** Output fidelity figures, checked against numpy's computation of the same definitions. */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { classScoreTest, compareModels, compareOutputs, NamedTensor, OrtRuntime, OutputFidelity } from '../../src/core';
import { DataType, graph, model, node, randomFloats, valueInfo } from '../support/model-builder';
import { matMulModel, numpy, writeTemporary } from './runtime-models';

/** numpy's float64 sums and ours differ in order; ORT's float32 MatMul and numpy's too. */
const EXACT = 1e-9;
const FLOAT32_MATMUL = 1e-4;

/** The definitions, written again in numpy over all sets concatenated; `a` is the original. */
const NUMPY_FIGURES = `
a = np.concatenate([np.array(x, dtype=np.float64).reshape(-1, data['classes']) for x in data['a']])
b = np.concatenate([np.array(x, dtype=np.float64).reshape(-1, data['classes']) for x in data['b']])
error = a - b
result = {
  'cosine': float(np.dot(a.ravel(), b.ravel()) / (np.linalg.norm(a) * np.linalg.norm(b))),
  'maxAbs': float(np.max(np.abs(error))),
  'relativeL2': float(np.linalg.norm(error) / np.linalg.norm(a)),
  'sqnr': float(10 * np.log10(np.sum(a * a) / np.sum(error * error))),
  'top1': float(np.mean(np.argmax(a, axis=1) == np.argmax(b, axis=1))),
}
`;

function tensor(name: string, dims: number[], values: ArrayLike<number>): NamedTensor {
  return { name, type: 'float32', dims, data: Float32Array.from(values) };
}

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs numpy ${expected}`);
}

function assertMatchesNumpy(figures: OutputFidelity, expected: Record<string, number>, tolerance: number): void {
  assertClose(figures.cosineSimilarity, expected.cosine, tolerance, 'cosine similarity');
  assertClose(figures.maxAbsoluteError, expected.maxAbs, tolerance, 'max absolute error');
  assertClose(figures.relativeL2Error, expected.relativeL2, tolerance, 'relative L2 error');
  assertClose(figures.sqnrDb, expected.sqnr, tolerance, 'SQNR');
  assert.equal(figures.top1Agreement, expected.top1, 'top-1 agreement');
}

describe('runtime fidelity', () => {
  it('computes cosine, max abs error, relative L2 error, SQNR and top-1 agreement over all input sets as numpy does', () => {
    const sets = [1, 2, 3].map((seed) => ({ a: randomFloats(4 * 5, seed, 3), noise: randomFloats(4 * 5, seed + 10, 0.8) }));
    const original = sets.map(({ a }) => [tensor('scores', [4, 5], a)]);
    const changed = sets.map(({ a, noise }) => [tensor('scores', [4, 5], a.map((value, i) => value + noise[i]))]);
    const [figures] = compareOutputs(original, changed, () => true);
    const expected = numpy(NUMPY_FIGURES, { a: original.map(([t]) => [...(t.data as Float32Array)]), b: changed.map(([t]) => [...(t.data as Float32Array)]), classes: 5 });
    assert.ok(expected.top1 > 0 && expected.top1 < 1, 'the noise should flip some but not all rows');
    assertMatchesNumpy(figures, expected, EXACT);
    assert.equal(figures.elementCount, 60);
    assert.equal(figures.identical, false);
  });

  it('calls identical outputs identical, with an infinite SQNR, and does not compare outputs whose shape changed', () => {
    const a = [[tensor('y', [2, 3], [1, 2, 3, 4, 5, 6]), tensor('z', [2], [0, 0])]];
    const [same, zeros] = compareOutputs(a, a, () => false);
    assert.deepEqual(
      { ...same },
      { name: 'y', type: 'float32', dims: [2, 3], elementCount: 6, identical: true, cosineSimilarity: 1, maxAbsoluteError: 0, relativeL2Error: 0, sqnrDb: Infinity });
    assert.equal(zeros.cosineSimilarity, 1, 'two all-zero outputs point the same way');
    const [reshaped] = compareOutputs(a, [[tensor('y', [3, 2], [1, 2, 3, 4, 5, 6]), tensor('z', [2], [0, 0])]], () => false);
    assert.equal(reshaped.incomparable, 'its shape changed from [2,3] to [3,2]');
    assert.ok(Number.isNaN(reshaped.cosineSimilarity));
  });

  it('takes for class scores float outputs from Softmax, named like scores, or shaped [batch, classes]', () => {
    const m = model(graph({
      nodes: [node('Softmax', ['x'], ['probabilities_3d']), node('Identity', ['x'], ['hidden'])],
      inputs: [valueInfo('x', DataType.FLOAT, [1, 2, 10])],
      outputs: [valueInfo('probabilities_3d', DataType.FLOAT, [1, 2, 10]), valueInfo('hidden', DataType.FLOAT, [1, 2, 10])],
    }));
    const isClassScores = classScoreTest(m);
    const output = (name: string, dims: number[], type: NamedTensor['type'] = 'float32'): NamedTensor => ({ name, type, dims, data: new Float32Array() });
    assert.equal(isClassScores(output('probabilities_3d', [1, 2, 10])), true);
    assert.equal(isClassScores(output('hidden', [1, 2, 10])), false);
    assert.equal(isClassScores(output('logits', [1, 2, 10])), true);
    assert.equal(isClassScores(output('39', [1, 10])), true);
    assert.equal(isClassScores(output('39', [1, 1])), false, 'one value is a probability, not classes');
    assert.equal(isClassScores(output('ids', [1, 10], 'int64')), false);
  });

  describe('through ONNX Runtime', function () {
    this.timeout(60_000);
    const ROWS = 8;
    const SIZE = 16;
    let runtime: OrtRuntime;
    let folder: string;

    before(async () => {
      runtime = new OrtRuntime();
      const weights = randomFloats(SIZE * SIZE, 7, 0.5);
      const perturbed = weights.map((value, i) => value + randomFloats(SIZE * SIZE, 8, 0.05)[i]);
      ({ folder } = await writeTemporary({ 'original.onnx': matMulModel(ROWS, SIZE, weights), 'changed.onnx': matMulModel(ROWS, SIZE, perturbed) }));
      numpy(`
import os
for index, seed in enumerate([11, 12]):
    os.makedirs(f"{data['folder']}/inputs/{index}")
    x = np.random.default_rng(seed).standard_normal((${ROWS}, ${SIZE})).astype(np.float32)
    np.save(f"{data['folder']}/inputs/{index}/x.npy", x)
result = None
`, { folder });
      await fs.writeFile(path.join(folder, 'weights.json'), JSON.stringify({ weights: [...weights], perturbed: [...perturbed] }));
    });

    after(async () => {
      runtime.dispose();
      await fs.rm(folder, { recursive: true, force: true });
    });

    it('measures what numpy computes from the same inputs and weights', async () => {
      const report = await compareModels(runtime, { path: path.join(folder, 'original.onnx') }, { path: path.join(folder, 'changed.onnx') }, { inputs: { folder: path.join(folder, 'inputs') }, rounds: 0 });
      assert.equal(report.inputSets, 2);
      assert.equal(report.latency, undefined, '--runs 0 measures no latency');
      const expected = numpy(`
import json
w = json.load(open(data['folder'] + '/weights.json'))
W = np.array(w['weights'], dtype=np.float32).reshape(${SIZE}, ${SIZE})
V = np.array(w['perturbed'], dtype=np.float32).reshape(${SIZE}, ${SIZE})
xs = [np.load(f"{data['folder']}/inputs/{i}/x.npy") for i in range(2)]
data = {'a': [(x @ W).tolist() for x in xs], 'b': [(x @ V).tolist() for x in xs], 'classes': ${SIZE}}
${NUMPY_FIGURES}
`, { folder });
      assertMatchesNumpy(report.outputs[0], expected, FLOAT32_MATMUL);
      assert.equal(report.outputs[0].name, 'logits');
    });
  });
});
