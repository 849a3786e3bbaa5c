/** Latency statistics, and A/B timing through ONNX Runtime. */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { benchmarkModels, latencyChange, OrtRuntime, summarizeLatency } from '../../src/core';
import { randomFloats } from '../support/model-builder';
import { matMulModel, numpy, writeTemporary } from './runtime-models';

/** Timings of the shape real ones have: a floor, noise above it, and a few slow outliers. */
function timings(count: number, seed: number, scale = 1): number[] {
  const noise = randomFloats(count, seed, 1);
  return Array.from(noise, (value, index) => scale * (1 + 0.05 * Math.abs(value) + (index % 17 === 0 ? 0.5 : 0)));
}

describe('runtime latency', () => {
  it('summarises runs with median and p90 as numpy.percentile computes them', () => {
    const wallMs = timings(50, 3);
    const cpuMs = timings(50, 4, 0.8);
    const summary = summarizeLatency({ wallMs, cpuMs });
    const expected = numpy(`
wall, cpu = data
result = [float(np.percentile(wall, 50)), float(np.percentile(wall, 90)), min(wall), max(wall), float(np.median(cpu))]`, [wallMs, cpuMs]);
    const figures = [summary.medianMs, summary.p90Ms, summary.minMs, summary.maxMs, summary.cpuMedianMs];
    assert.deepEqual(figures.map((v) => +v.toFixed(12)), expected.map((v: number) => +v.toFixed(12)));
    assert.equal(summary.runs, 50);
  });

  it('gives the change of the median with a bootstrap interval around it, and a verdict', () => {
    const original = timings(50, 5);
    const cases = [
      { changed: timings(50, 6), verdict: 'within noise' },
      { changed: timings(50, 6, 1.3), verdict: 'slower' },
      { changed: timings(50, 6, 0.69), verdict: 'faster' },
    ];
    for (const { changed, verdict } of cases) {
      const result = latencyChange(original, changed);
      const expected = numpy('result = float(np.median(data[1]) / np.median(data[0]) - 1)', [original, changed]);
      assert.ok(Math.abs(result.change - expected) < 1e-12, `change ${result.change} vs numpy ${expected}`);
      assert.ok(result.low <= result.change && result.change <= result.high, `${result.low} ≤ ${result.change} ≤ ${result.high}`);
      assert.equal(result.verdict, verdict, JSON.stringify(result));
    }
  });

  it('calls a change within noise when its interval holds zero, and when it is all under 2%', () => {
    const original = timings(50, 5);
    assert.equal(latencyChange(original, original.map((value) => value * 1.005)).verdict, 'within noise');
    assert.equal(latencyChange(original, original.map((value) => value * 1.05)).verdict, 'slower');
  });

  describe('through ONNX Runtime', function () {
    this.timeout(120_000);
    /** About 1 ms a MatMul: long enough for the work, not fixed costs, to dominate a run. */
    const ROWS = 256;
    const SIZE = 256;
    let runtime: OrtRuntime;
    let folder: string;
    let models: Record<string, string>;

    before(async () => {
      runtime = new OrtRuntime();
      const weights = randomFloats(SIZE * SIZE, 1, 0.05);
      const one = matMulModel(ROWS, SIZE, weights);
      ({ folder, paths: models } = await writeTemporary({ 'one.onnx': one, 'copy.onnx': one, 'four.onnx': matMulModel(ROWS, SIZE, weights, 4) }));
    });

    after(async () => {
      runtime.dispose();
      await fs.rm(folder, { recursive: true, force: true });
    });

    it('finds two copies of the same model within noise of each other', async () => {
      const report = await benchmarkModels(runtime, [{ path: models['one.onnx'] }, { path: models['copy.onnx'] }]);
      assert.equal(report.change?.verdict, 'within noise', JSON.stringify(report, null, 1));
      assert.deepEqual(report.models.map((model) => [path.basename(model.name), model.latency.runs]), [['one.onnx', 50], ['copy.onnx', 50]]);
      for (const { latency } of report.models) {
        // One thread: the process's CPU time is the run's, up to what waiting for a CPU or other threads of the process add.
        assert.ok(latency.cpuMedianMs > 0.2 * latency.medianMs && latency.cpuMedianMs < 1.5 * latency.medianMs, JSON.stringify(latency));
      }
    });

    it('finds a model doing four times the work clearly slower', async () => {
      const report = await benchmarkModels(runtime, [{ path: models['one.onnx'] }, { path: models['four.onnx'] }], { rounds: 20 });
      const change = report.change!;
      assert.equal(change.verdict, 'slower', JSON.stringify(change));
      // Not 4x: a run also pays a fixed cost (feeding, fetching, scheduling) that four MatMuls share.
      assert.ok(change.low > 0.5 && change.high < 4, JSON.stringify(change));
    });
  });
});
