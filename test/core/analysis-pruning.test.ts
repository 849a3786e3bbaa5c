import { strict as assert } from 'node:assert';
import { analyzeValues, CDF_RESOLUTION, InvalidArgumentError, MAX_ENERGY_LOSS, PRUNE_SPARSITIES, pruneAtThreshold } from '../../src/core';
import { randomFloats } from '../support/model-builder';

/** Everything about magnitude pruning, by sorting the magnitudes. */
/** Everything about magnitude pruning, from the sorted magnitudes and their running sums. */
function bruteForce(values: ArrayLike<number>) {
  const magnitudes = Array.from(values, Math.abs).sort((a, b) => a - b);
  const energyBefore = [0];
  const massBefore = [0];
  magnitudes.forEach((m, i) => {
    energyBefore.push(energyBefore[i] + m * m);
    massBefore.push(massBefore[i] + m);
  });
  const n = magnitudes.length;
  const share = (part: number, total: number) => (total > 0 ? part / total : 0);
  const removingSmallest = (k: number) => ({
    energy: share(energyBefore[k], energyBefore[n]), mass: share(massBefore[k], massBefore[n]), next: magnitudes[k],
  });
  const below = (threshold: number) => {
    let count = 0;
    for (let step = 1 << 30; step > 0; step >>= 1) if (count + step <= n && magnitudes[count + step - 1] < threshold) count += step;
    return { sparsity: count / n, energy: share(energyBefore[count], energyBefore[n]), mass: share(massBefore[count], massBefore[n]) };
  };
  let headline = 0;
  while (headline < n && energyBefore[headline + 1] <= MAX_ENERGY_LOSS * energyBefore[n]) headline++;
  return { magnitudes, removingSmallest, below, headline };
}

function normalish(count: number, seed: number): Float32Array {
  const [a, b, c] = [randomFloats(count, seed), randomFloats(count, seed + 1), randomFloats(count, seed + 2)];
  return a.map((v, i) => (v + b[i] + c[i]) * 0.02);
}

const SAMPLES: [string, Float32Array][] = [
  ['normal-ish', normalish(200000, 7)],
  ['half zeros', normalish(20000, 17).map((v, i) => (i % 2 ? v : 0))],
  // Already-quantized values: few distinct magnitudes, so many ties and heavy single bins.
  ['sixteen levels', randomFloats(30000, 27).map((v) => Math.round(v * 8) / 8)],
  ['seven values', Float32Array.of(0.5, -0.25, 0, 1e-3, -3, 2, 0.125)],
  ['all zero', new Float32Array(100)],
];

const close = (actual: number, expected: number, label: string, tolerance = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label}: ${actual} vs ${expected}`);

describe('weight analysis: prunability', () => {
  for (const [label, values] of SAMPLES) {
    describe(label, () => {
      const { pruning } = analyzeValues(values, [values.length]);
      const truth = bruteForce(values);

      it('gives, at each sparsity, the exact threshold and the exact energy and mass removed', () => {
        assert.deepEqual(pruning.levels.map((level) => level.sparsity), PRUNE_SPARSITIES);
        for (const level of pruning.levels) {
          const expected = truth.removingSmallest(Math.floor(level.sparsity * values.length));
          assert.equal(level.threshold, expected.next, `threshold at ${level.sparsity}`);
          close(level.energyRemoved, expected.energy, `energy at ${level.sparsity}`);
          close(level.massRemoved, expected.mass, `mass at ${level.sparsity}`);
        }
      });

      it('gives the largest sparsity that loses at most 1% of the energy', () => {
        const { headline } = pruning;
        assert.equal(headline.sparsity, truth.headline / values.length);
        assert.ok(headline.energyRemoved <= MAX_ENERGY_LOSS);
        assert.equal(headline.threshold, truth.headline < values.length ? truth.magnitudes[truth.headline] : null);
      });

      it('answers any threshold from the CDF within its stated error', () => {
        const { cdf } = pruning;
        const top = truth.magnitudes[truth.magnitudes.length - 1] || 1;
        const thresholds = [
          -1, 0, 1e-45, 1e-30, top, top * 2, Infinity, ...cdf.thresholds,
          ...Array.from(randomFloats(300, 37), (u) => top * 10 ** (-6 * Math.abs(u))),
          ...truth.magnitudes.filter((_, i) => i % 997 === 0),
        ];
        for (const threshold of thresholds) {
          const answer = pruneAtThreshold(cdf, threshold);
          const expected = truth.below(threshold);
          close(answer.sparsity, expected.sparsity, `sparsity at ${threshold}`, answer.sparsityError + 1e-12);
          close(answer.energyRemoved, expected.energy, `energy at ${threshold}`, answer.energyError + 1e-12);
          close(answer.massRemoved, expected.mass, `mass at ${threshold}`, answer.massError + 1e-12);
        }
      });

      it('is exact at the CDF\'s own thresholds', () => {
        for (const threshold of pruning.cdf.thresholds) {
          const answer = pruneAtThreshold(pruning.cdf, threshold);
          assert.deepEqual([answer.sparsityError, answer.energyError, answer.massError], [0, 0, 0]);
          close(answer.sparsity, truth.below(threshold).sparsity, `sparsity at ${threshold}`);
        }
      });
    });
  }

  it('keeps the CDF small and its error near the stated resolution for smooth weights', () => {
    const values = normalish(1 << 20, 47);
    const { cdf } = analyzeValues(values, [values.length]).pruning;
    assert.ok(cdf.thresholds.length < 2500, `${cdf.thresholds.length} thresholds`);
    assert.equal(cdf.resolution, CDF_RESOLUTION);
    const errors = Array.from(randomFloats(2000, 57), (u) => pruneAtThreshold(cdf, 0.06 * Math.abs(u)).sparsityError);
    // A single fine bin (1/128 of a power of two) can hold a little more than the resolution on its own.
    assert.ok(Math.max(...errors) <= 2 * CDF_RESOLUTION, `largest sparsity error ${Math.max(...errors)}`);
  });

  it('refuses a NaN threshold', () => {
    const { cdf } = analyzeValues(Float32Array.of(1, 2), [2]).pruning;
    assert.throws(() => pruneAtThreshold(cdf, NaN), InvalidArgumentError);
  });
});
