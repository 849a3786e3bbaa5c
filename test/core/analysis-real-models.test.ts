import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeModel, ModelAnalysis, openModelShared, WeightAnalysis } from '../../src/core';
import { inspectCommand } from '../../src/cli/inspect';
import { DEBIAN_PYTHON, REAL_MODELS, REPO_ROOT } from '../support/fixtures';

type Analyzed = Extract<WeightAnalysis, { status: 'analyzed' }>;

/**
 * The same figures from numpy, for every float32 initializer and Constant in
 * every graph: statistics in float64, and int8 per-tensor and float16 round
 * trips done numpy's way (np.round halves to even; astype(float16) rounds to nearest even).
 */
const NUMPY_FIGURES = `
import json, sys
import numpy as np
import onnx
from onnx import numpy_helper

def tensors(graph):
    for t in graph.initializer:
        yield t.name, t
    for node in graph.node:
        if node.op_type == 'Constant':
            for a in node.attribute:
                if a.name == 'value':
                    yield node.output[0], a.t
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from tensors(a.g)
            for g in a.graphs:
                yield from tensors(g)

def sqnr(w, r):
    if not np.all(np.isfinite(r)):
        return 'overflow'
    noise = np.sum((w - r) ** 2)
    return 'lossless' if noise == 0 else float(10 * np.log10(np.sum(w ** 2) / noise))

out = {}
for name, t in tensors(onnx.load(sys.argv[1]).graph):
    if t.data_type != onnx.TensorProto.FLOAT:
        continue
    w32 = numpy_helper.to_array(t).astype(np.float32).ravel()
    w = w32.astype(np.float64)
    mean = w.mean()
    m2 = ((w - mean) ** 2).mean()
    m4 = ((w - mean) ** 4).mean()
    max_abs = np.abs(w).max()
    scale = np.float32(max_abs / 127) if max_abs > 0 else np.float32(1)
    q = np.clip(np.round(w / np.float64(scale)), -127, 127)
    int8 = (q * np.float64(scale)).astype(np.float32).astype(np.float64)
    with np.errstate(over='ignore'):
        half = w32.astype(np.float16).astype(np.float64)
    out.setdefault(name, []).append({
        'count': int(w.size), 'mean': float(mean), 'std': float(np.sqrt(m2)), 'min': float(w.min()), 'max': float(w.max()),
        'zeros': int(np.sum(w == 0)), 'kurtosis': float(m4 / m2 ** 2 - 3) if m2 > 0 else None,
        'int8': sqnr(w, int8), 'float16': sqnr(w, half),
    })
print(json.dumps(out))
`;

interface NumpyFigures {
  count: number; mean: number; std: number; min: number; max: number; zeros: number;
  kurtosis: number | null; int8: number | string; float16: number | string;
}

function numpyFigures(modelPath: string): Map<string, NumpyFigures[]> {
  return new Map(Object.entries(JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', NUMPY_FIGURES, modelPath], { encoding: 'utf8', maxBuffer: 1 << 26 }))));
}

function close(actual: number | null, expected: number | null, label: string, tolerance: number): void {
  if (actual === null || expected === null) return assert.equal(actual, expected, label);
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${label}: ${actual} vs ${expected}`);
}

/** numpy's answer is the dB figure, or the outcome when there is none. */
const sqnrOf = (estimate: { outcome: string; sqnrDb: number | null }) => estimate.sqnrDb ?? estimate.outcome;

function sameSqnr(actual: number | string, expected: number | string, label: string): void {
  if (typeof actual === 'string' || typeof expected === 'string') return assert.equal(actual, expected, label);
  close(actual, expected, label, 1e-9);
}

describe('weight analysis of real trained models', () => {
  for (const [label, modelPath] of Object.entries(REAL_MODELS)) {
    describe(label, () => {
      let result: ModelAnalysis;
      before(async () => { result = await analyzeModel(await openModelShared(modelPath)); });

      it('reports on every float weight, those inside If branches included', async () => {
        const floats = (await openModelShared(modelPath)).weights().filter((weight) => weight.tensor.dataType.isFloat);
        const analyzed = result.weights.filter((weight): weight is Analyzed => weight.status === 'analyzed');
        assert.deepEqual(analyzed.map((weight) => weight.id), floats.map((weight) => weight.id));
        assert.ok(analyzed.length > 0);
      });

      it('agrees with numpy on statistics and on int8 and float16 round trips', () => {
        const expected = numpyFigures(modelPath);
        let compared = 0;
        for (const weight of result.weights) {
          const candidates = expected.get(weight.name);
          if (weight.status !== 'analyzed' || weight.dataType !== 'float32' || candidates?.length !== 1) continue;
          const [numpy] = candidates;
          const { stats, quantization } = weight;
          assert.equal(stats.count, numpy.count, weight.id);
          assert.equal(stats.zeros, numpy.zeros, `${weight.id} zeros`);
          assert.deepEqual([stats.min, stats.max], [numpy.min, numpy.max], `${weight.id} range`);
          close(stats.mean, numpy.mean, `${weight.id} mean`, 1e-9);
          close(stats.std, numpy.std, `${weight.id} std`, 1e-9);
          close(stats.excessKurtosis, numpy.kurtosis, `${weight.id} kurtosis`, 1e-6);
          sameSqnr(sqnrOf(quantization.int8PerTensor), numpy.int8, `${weight.id} int8 SQNR`);
          sameSqnr(sqnrOf(quantization.float16), numpy.float16, `${weight.id} float16 SQNR`);
          compared++;
        }
        assert.ok(compared >= 10, `compared ${compared} weights`);
      });
    });
  }

  it('silero legacy: says which weights float16 cannot hold (numpy agrees above)', async () => {
    const result = await analyzeModel(await openModelShared(REAL_MODELS.sileroLegacy));
    const overflowing = result.weights.filter((weight): weight is Analyzed => weight.status === 'analyzed' && weight.quantization.float16.outcome === 'overflow');
    assert.ok(overflowing.length > 0);
    for (const weight of overflowing) assert.ok(weight.stats.maxAbs > 65504, weight.id);
  });

  it('silero v5: the Conv and LSTM-cell weights inside both If branches have channels and a headline', async () => {
    const result = await analyzeModel(await openModelShared(REAL_MODELS.sileroV5));
    const convWeights = result.weights.filter((weight): weight is Analyzed =>
      weight.status === 'analyzed' && weight.scope.includes('/If_0.') && weight.name.endsWith('reparam_conv.weight'));
    assert.equal(convWeights.length, 8, 'four encoder Convs in each branch');
    for (const weight of convWeights) {
      assert.equal(weight.channels!.axis, 0);
      assert.equal(weight.channels!.l2.length, weight.dims[0]);
      assert.ok(weight.pruning.headline.sparsity > 0 && weight.pruning.headline.sparsity < 1);
    }
  });
});

describe('onnx-lens inspect with the analysis', () => {
  it('prints a per-layer table after the overview', async () => {
    const text = await inspectCommand(REAL_MODELS.sileroLegacy, { json: false });
    assert.match(text, /^Layers +100 weights analyzed \(444\.9 k parameters\), 159 skipped/m);
    const header = text.split('\n').find((line) => line.startsWith('Layer '))!;
    for (const column of ['Weight', 'Shape', 'Std', 'Kurt', 'Zeros', 'Prune@1%', 'int8', 'int8/ch', 'int4/32', 'fp16', 'Dead ch']) {
      assert.ok(header.includes(column), column);
    }
    assert.match(text, /\nLSTM \S+ +\S+ +\[1,256,64\] /, 'an LSTM weight row');
  });

  it('gives the full report as JSON: overview, every weight with its analysis, layers', async () => {
    const report = JSON.parse(await inspectCommand(REAL_MODELS.sileroV5, { json: true }));
    assert.equal(report.overview.producerName, 'spox');
    assert.equal(report.weights.length, 341);
    const analyzed = report.weights.filter((weight: { status: string }) => weight.status === 'analyzed');
    assert.equal(analyzed.length, 34);
    for (const weight of analyzed) {
      assert.ok(weight.uses.length > 0 && weight.stats && weight.histogram.counts.length === 64 && weight.pruning.cdf, weight.id);
    }
    assert.ok(report.layers.some((layer: { opType: string }) => layer.opType === 'Conv'));
  });

  it('runs from the bundle, with the bundled worker', function () {
    const cli = path.join(REPO_ROOT, 'dist/cli.js');
    assert.ok(existsSync(path.join(REPO_ROOT, 'dist/analysis-worker.js')), 'dist/ is built by npm run build (npm test runs it first)');
    const output = execFileSync(process.execPath, [cli, 'inspect', REAL_MODELS.helloDeepa, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const report = JSON.parse(output);
    assert.ok(report.weights.some((weight: { status: string }) => weight.status === 'analyzed'));
  });
});
