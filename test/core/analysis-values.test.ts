import { strict as assert } from 'node:assert';
import { analyzeValues, HISTOGRAM_BINS, InvalidArgumentError, NonFiniteValuesError, WeightFigures } from '../../src/core';
import { randomFloats } from '../support/model-builder';

/** Statistics computed the plain way, in double precision, independently of the analysis. */
function reference(values: ArrayLike<number>) {
  const list = Array.from(values);
  const n = list.length;
  const mean = list.reduce((a, v) => a + v, 0) / n;
  const m2 = list.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  const m4 = list.reduce((a, v) => a + (v - mean) ** 4, 0) / n;
  const maxAbs = Math.max(...list.map(Math.abs));
  const std = Math.sqrt(m2);
  return {
    count: n, min: Math.min(...list), max: Math.max(...list), mean, std, maxAbs,
    l1Norm: list.reduce((a, v) => a + Math.abs(v), 0),
    l2Norm: Math.sqrt(list.reduce((a, v) => a + v * v, 0)),
    zeros: list.filter((v) => v === 0).length,
    nearZeroFraction: list.filter((v) => Math.abs(v) < 1e-3 * maxAbs).length / n,
    excessKurtosis: m2 > 0 ? m4 / (m2 * m2) - 3 : null,
    outlierRatio: std > 0 ? maxAbs / std : null,
  };
}

function assertClose(actual: number | null, expected: number | null, label: string, relative = 1e-9): void {
  if (expected === null || actual === null) return assert.equal(actual, expected, label);
  const tolerance = relative * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label}: ${actual} vs ${expected}`);
}

function assertStats(figures: WeightFigures, values: ArrayLike<number>): void {
  const expected = reference(values);
  for (const [key, value] of Object.entries(expected)) {
    assertClose(figures.stats[key as keyof typeof expected], value, key);
  }
}

/** Samples with known shapes: roughly normal (sum of uniforms), heavy-tailed, sparse, constant. */
function normalish(count: number, seed: number): Float32Array {
  const [a, b, c] = [randomFloats(count, seed), randomFloats(count, seed + 1), randomFloats(count, seed + 2)];
  return a.map((v, i) => (v + b[i] + c[i]) * 0.02);
}

function heavyTailed(count: number, seed: number): Float32Array {
  const u = randomFloats(count, seed);
  return u.map((v) => Math.fround(Math.sign(v) * 0.01 * Math.abs(v) ** -0.5));
}

function withZeros(values: Float32Array, every: number): Float32Array {
  return values.map((v, i) => (i % every === 0 ? 0 : v));
}

const SAMPLES: [string, Float32Array][] = [
  ['uniform', randomFloats(10000, 11, 0.05)],
  ['normal-ish', normalish(12345, 21)],
  ['heavy-tailed', heavyTailed(5000, 31)],
  ['one in three zero', withZeros(normalish(3000, 41), 3)],
  ['all equal', new Float32Array(100).fill(0.25)],
  ['all zero', new Float32Array(64)],
  ['one element', Float32Array.of(-3.5)],
];

describe('weight analysis: statistics and histograms', () => {
  for (const [label, values] of SAMPLES) {
    describe(label, () => {
      const figures = analyzeValues(values, [values.length]);

      it('matches a plain double-precision computation', () => assertStats(figures, values));

      it('has a linear histogram whose bins hold exactly the values in them', () => {
        const { min, max, counts } = figures.histogram;
        assert.equal(counts.length, HISTOGRAM_BINS);
        assert.equal(counts.reduce((a, b) => a + b, 0), values.length);
        const width = (max - min) / HISTOGRAM_BINS;
        const expected = new Array(HISTOGRAM_BINS).fill(0);
        for (const v of values) expected[width > 0 ? Math.min(HISTOGRAM_BINS - 1, Math.floor((v - min) / width)) : 0]++;
        assert.deepEqual(counts, expected);
      });

      it('has a log-magnitude histogram exact at its stated edges', () => {
        const { edges, counts, zeros, belowRange } = figures.logHistogram;
        assert.equal(counts.reduce((a, b) => a + b, 0) + zeros + belowRange, values.length);
        assert.equal(zeros, Array.from(values).filter((v) => v === 0).length);
        const magnitudes = Array.from(values, Math.abs).filter((m) => m > 0);
        counts.forEach((count, k) => {
          assert.equal(count, magnitudes.filter((m) => m >= edges[k] && m < edges[k + 1]).length, `log bin ${k}`);
        });
        assert.equal(belowRange, magnitudes.filter((m) => m < (edges[0] ?? Infinity)).length);
        for (let k = 1; k < edges.length; k++) assert.ok(edges[k] > edges[k - 1], 'edges increase');
      });

      it('is plain JSON', () => assert.deepEqual(JSON.parse(JSON.stringify(figures)), figures));
    });
  }

  it('keeps float64 values in double precision', () => {
    const values = Float64Array.from(normalish(2000, 51), (v, i) => v + i * 1e-12);
    const figures = analyzeValues(values, [values.length]);
    assertStats(figures, values);
    assert.equal(figures.dataPasses, 3, 'rounding float64 to float32 for the magnitude bins is one more pass');
  });

  it('reads a tensor in two passes', () => {
    assert.equal(analyzeValues(randomFloats(100, 1), [100]).dataPasses, 2);
  });

  it('computes per-channel norms and ranges along the channel axis', () => {
    // [3, 4, 5]: channels on axis 1, so channel c holds every (o, c, i).
    const dims = [3, 4, 5];
    const values = randomFloats(60, 61, 2);
    const figures = analyzeValues(values, dims, { channelAxis: 1, blockAxes: [2, 2] });
    const channel = (c: number) => Array.from(values).filter((_, index) => Math.floor(index / 5) % 4 === c);
    const channels = figures.channels!;
    assert.equal(channels.axis, 1);
    for (let c = 0; c < 4; c++) {
      const members = channel(c);
      assertClose(channels.l1[c], members.reduce((a, v) => a + Math.abs(v), 0), `l1[${c}]`);
      assertClose(channels.l2[c], Math.sqrt(members.reduce((a, v) => a + v * v, 0)), `l2[${c}]`);
      assert.equal(channels.min[c], Math.min(...members));
      assert.equal(channels.max[c], Math.max(...members));
    }
  });

  it('counts channels whose L2 norm is under 5% of the median channel as dead', () => {
    // Rows are output channels of a [6, 10] weight (Gemm with transB); rows 1 and 4 are nearly empty.
    const values = randomFloats(60, 71, 1);
    for (let i = 10; i < 20; i++) values[i] *= 0.001;
    for (let i = 40; i < 50; i++) values[i] = 0;
    const channels = analyzeValues(values, [6, 10], { channelAxis: 0, blockAxes: [1, 1] }).channels!;
    const sorted = [...channels.l2].sort((a, b) => a - b);
    assertClose(channels.medianL2, (sorted[2] + sorted[3]) / 2, 'median');
    assert.deepEqual(channels.dead, [1, 4]);
  });

  it('gives no channel figures without a channel axis', () => {
    assert.equal(analyzeValues(randomFloats(10, 1), [10]).channels, undefined);
  });

  it('refuses NaN and infinities, saying how many', () => {
    assert.throws(() => analyzeValues(Float32Array.of(1, NaN, Infinity, 2), [4]), (error: unknown) =>
      error instanceof NonFiniteValuesError && error.count === 2 && /2 NaN or infinite elements\.$/.test(error.message));
  });

  it('refuses values that do not fill the shape, or no values at all', () => {
    assert.throws(() => analyzeValues(new Float32Array(5), [2, 3]), InvalidArgumentError);
    assert.throws(() => analyzeValues(new Float32Array(0), [0]), /need 0; analysis needs at least one\.$/);
  });
});
