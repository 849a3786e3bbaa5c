/**
 * Latency statistics: per-model median and p90, and the change from one model
 * to another with a bootstrap confidence interval over paired rounds.
 */
import { RunTimes } from './protocol';
import { seededRandom } from './random';

export interface LatencySummary {
  readonly runs: number;
  /** Wall-clock figures: the latency a caller sees. */
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  /**
   * The median CPU time the runtime process spent per run. With one thread it
   * is close to the wall-clock median on an idle machine; well below it, runs
   * waited for a CPU that other work held.
   */
  readonly cpuMedianMs: number;
}

export type LatencyVerdict = 'faster' | 'slower' | 'within noise';

export interface LatencyChange {
  /** median(changed) / median(original) − 1: −0.31 is 31% faster. */
  readonly change: number;
  /** The 95% bootstrap confidence interval of `change`. */
  readonly low: number;
  readonly high: number;
  readonly verdict: LatencyVerdict;
}

/** Changes smaller than this are machine noise even when the interval excludes zero (memory placement, clocks). */
export const NOISE_FLOOR = 0.02;
const RESAMPLES = 2000;
const CONFIDENCE = 0.95;
const BOOTSTRAP_SEED = 1;

export function summarizeLatency(times: RunTimes): LatencySummary {
  const sorted = [...times.wallMs].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    medianMs: percentileOfSorted(sorted, 0.5),
    p90Ms: percentileOfSorted(sorted, 0.9),
    minMs: sorted[0] ?? NaN,
    maxMs: sorted[sorted.length - 1] ?? NaN,
    cpuMedianMs: median(times.cpuMs),
  };
}

/** Linear interpolation between the closest ranks, as numpy.percentile does by default. */
export function percentileOfSorted(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return NaN;
  const position = fraction * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * Round i of `original` and round i of `changed` ran back to back, so rounds
 * are resampled in pairs: what disturbed one run of a round likely disturbed both.
 */
export function latencyChange(original: readonly number[], changed: readonly number[]): LatencyChange {
  if (original.length !== changed.length || original.length === 0) {
    throw new RangeError(`latencyChange needs the same, non-zero number of rounds for both models, not ${original.length} and ${changed.length}.`);
  }
  const change = median(changed) / median(original) - 1;
  const random = seededRandom(BOOTSTRAP_SEED);
  const n = original.length;
  const resampledA = new Float64Array(n);
  const resampledB = new Float64Array(n);
  const changes = new Float64Array(RESAMPLES);
  for (let r = 0; r < RESAMPLES; r++) {
    for (let i = 0; i < n; i++) {
      const round = Math.floor(random() * n);
      resampledA[i] = original[round];
      resampledB[i] = changed[round];
    }
    changes[r] = median(resampledB) / median(resampledA) - 1;
  }
  changes.sort();
  const tail = (1 - CONFIDENCE) / 2;
  const low = percentileOfSorted(changes, tail);
  const high = percentileOfSorted(changes, 1 - tail);
  return { change, low, high, verdict: verdictOf(low, high) };
}

function verdictOf(low: number, high: number): LatencyVerdict {
  if (low <= 0 && high >= 0) return 'within noise';
  if (Math.max(Math.abs(low), Math.abs(high)) < NOISE_FLOOR) return 'within noise';
  return high < 0 ? 'faster' : 'slower';
}

function median(values: ArrayLike<number>): number {
  return percentileOfSorted(Float64Array.from(values).sort(), 0.5);
}
