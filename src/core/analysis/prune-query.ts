/**
 * Answers "what does pruning |w| < t remove?" for any t from a weight's
 * magnitude CDF, without the weights: cheap enough to run on every move of a
 * slider. Imports nothing that needs Node, so a webview can bundle it.
 */
import { InvalidArgumentError } from '../errors';
import type { MagnitudeCdf } from './report';

/** Each figure is within its stated error of the true one (brute force over the weights). */
export interface ThresholdAnswer {
  readonly threshold: number;
  readonly sparsity: number;
  readonly sparsityError: number;
  readonly energyRemoved: number;
  readonly energyError: number;
  readonly massRemoved: number;
  readonly massError: number;
}

export function pruneAtThreshold(cdf: MagnitudeCdf, threshold: number): ThresholdAnswer {
  if (Number.isNaN(threshold)) throw new InvalidArgumentError('threshold is NaN; it must be a magnitude.');
  const { thresholds } = cdf;
  const last = thresholds.length - 1;
  if (threshold <= thresholds[0]) return exactAt(cdf, 0, threshold);
  if (threshold >= thresholds[last]) return exactAt(cdf, last, threshold);
  const below = lastIndexAtOrBelow(thresholds, threshold);
  if (thresholds[below] === threshold) return exactAt(cdf, below, threshold);
  const position = (threshold - thresholds[below]) / (thresholds[below + 1] - thresholds[below]);
  const between = (low: number, high: number) => interpolate(low, high, position);
  const elements = between(cdf.elementsBelow[below] / cdf.count, cdf.elementsBelow[below + 1] / cdf.count);
  const energy = between(cdf.energyBelow[below], cdf.energyBelow[below + 1]);
  const mass = between(cdf.massBelow[below], cdf.massBelow[below + 1]);
  return {
    threshold,
    sparsity: elements.value, sparsityError: elements.error,
    energyRemoved: energy.value, energyError: energy.error,
    massRemoved: mass.value, massError: mass.error,
  };
}

function exactAt(cdf: MagnitudeCdf, index: number, threshold: number): ThresholdAnswer {
  return {
    threshold,
    sparsity: cdf.elementsBelow[index] / cdf.count, sparsityError: 0,
    energyRemoved: cdf.energyBelow[index], energyError: 0,
    massRemoved: cdf.massBelow[index], massError: 0,
  };
}

/** The true value lies in [low, high]; the answer is interpolated, and its error is its distance to the farther end. */
function interpolate(low: number, high: number, position: number): { value: number; error: number } {
  const value = low + (high - low) * position;
  return { value, error: Math.max(value - low, high - value) };
}

function lastIndexAtOrBelow(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (sorted[middle] <= value) low = middle;
    else high = middle - 1;
  }
  return low;
}
