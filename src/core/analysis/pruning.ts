/**
 * Exact magnitude-pruning figures without sorting the tensor. The magnitude
 * bins say which bin holds the k-th smallest |w| (and where the removed energy
 * crosses 1%); the second pass collects only those few bins' magnitudes, and
 * selection within them (quickselect, linear time: sorting them cost more than
 * a pass) gives the exact ranks.
 */
import { BinPrefix, binLowerEdge, MAGNITUDE_BIN_COUNT } from './magnitude-bins';
import { PruneLevel, PruningAnalysis } from './report';

export const PRUNE_SPARSITIES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];
export const MAX_ENERGY_LOSS = 0.01;

/** The bins whose non-zero magnitudes the second pass collects, each into its own array. */
export interface CollectionPlan {
  readonly slotOfBin: Uint8Array;
  readonly collectors: Float64Array[];
  readonly bins: number[];
}

export function planCollection(prefix: BinPrefix): CollectionPlan {
  const wanted = new Set<number>();
  for (const sparsity of PRUNE_SPARSITIES) {
    const rank = Math.floor(sparsity * prefix.count);
    if (rank >= prefix.zeros) wanted.add(prefix.binOfRank(rank));
  }
  const energyBin = prefix.binWhereEnergyExceeds(MAX_ENERGY_LOSS * prefix.energy);
  if (energyBin !== undefined) wanted.add(energyBin);
  const bins = [...wanted].sort((a, b) => a - b);
  const slotOfBin = new Uint8Array(MAGNITUDE_BIN_COUNT);
  bins.forEach((bin, slot) => (slotOfBin[bin] = slot + 1));
  return { slotOfBin, collectors: bins.map((bin) => new Float64Array(prefix.nonZeroIn(bin))), bins };
}

/** After the second pass has filled the collectors: the curve and the headline, exact. */
export function pruningFigures(prefix: BinPrefix, plan: CollectionPlan): Omit<PruningAnalysis, 'cdf'> {
  const collected = new Map(plan.bins.map((bin, slot) => [bin, plan.collectors[slot]]));
  const share = (part: number, total: number) => (total > 0 ? part / total : 0);
  const levels = PRUNE_SPARSITIES.map((sparsity): PruneLevel => {
    const removed = smallest(prefix, collected, Math.floor(sparsity * prefix.count));
    return { sparsity, threshold: removed.nextMagnitude, energyRemoved: share(removed.energy, prefix.energy), massRemoved: share(removed.mass, prefix.mass) };
  });
  return { levels, headline: headline(prefix, collected) };
}

/** Zeros come first in bin 0 and are not collected; this many elements of the bin precede its collected ones. */
function uncollectedBefore(prefix: BinPrefix, bin: number): number {
  return prefix.countBelow(bin) + (bin === 0 ? prefix.zeros : 0);
}

/** What removing the k smallest magnitudes removes, and the magnitude of the (k+1)-th. */
function smallest(prefix: BinPrefix, collected: Map<number, Float64Array>, k: number) {
  if (k < prefix.zeros) return { energy: 0, mass: 0, nextMagnitude: 0 };
  const bin = prefix.binOfRank(k);
  const magnitudes = collected.get(bin)!;
  const taken = k - uncollectedBefore(prefix, bin);
  selectNth(magnitudes, taken);
  let energy = prefix.energyBelow(bin);
  let mass = prefix.massBelow(bin);
  for (let j = 0; j < taken; j++) {
    energy += magnitudes[j] * magnitudes[j];
    mass += magnitudes[j];
  }
  return { energy, mass, nextMagnitude: magnitudes[taken] };
}

function headline(prefix: BinPrefix, collected: Map<number, Float64Array>): PruningAnalysis['headline'] {
  const limit = MAX_ENERGY_LOSS * prefix.energy;
  const bin = prefix.binWhereEnergyExceeds(limit);
  if (bin === undefined) return { maxEnergyLoss: MAX_ENERGY_LOSS, sparsity: 1, energyRemoved: 0, threshold: null };
  const magnitudes = collected.get(bin)!;
  const { taken, energy } = takeSmallestWithin(magnitudes, prefix.energyBelow(bin), limit);
  const next = taken < magnitudes.length ? (selectNth(magnitudes, taken), magnitudes[taken]) : undefined;
  return {
    maxEnergyLoss: MAX_ENERGY_LOSS,
    sparsity: (uncollectedBefore(prefix, bin) + taken) / prefix.count,
    energyRemoved: prefix.energy > 0 ? energy / prefix.energy : 0,
    // Rounding can leave the whole crossing bin under the limit; then the next bin's lower edge separates the same set.
    threshold: next ?? binLowerEdge(bin + 1),
  };
}

/**
 * Hoare partition of values[low..high] around the median of three: returns
 * [j, i] such that values[low..j] ≤ pivot, values[j+1..i-1] = pivot and
 * values[i..high] ≥ pivot, with j < high and i > low.
 */
function partition(values: Float64Array, low: number, high: number): [number, number] {
  const [a, b, c] = [values[low], values[(low + high) >> 1], values[high]];
  const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  let i = low;
  let j = high;
  while (i <= j) {
    while (values[i] < pivot) i++;
    while (values[j] > pivot) j--;
    if (i <= j) {
      const swapped = values[i];
      values[i++] = values[j];
      values[j--] = swapped;
    }
  }
  return [j, i];
}

/** Reorders values so that values[n] is the n-th smallest, nothing larger before it and nothing smaller after it. */
export function selectNth(values: Float64Array, n: number): void {
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const [j, i] = partition(values, low, high);
    if (n <= j) high = j;
    else if (n >= i) low = i;
    else return;
  }
}

/**
 * How many of the smallest values can be taken before `base` plus their
 * squares exceeds `limit`, with the energy they bring; reorders the values so
 * that the taken ones come first.
 */
export function takeSmallestWithin(values: Float64Array, base: number, limit: number): { taken: number; energy: number } {
  let energy = base;
  let low = 0;
  let high = values.length - 1;
  // values[0..low) are taken; values[low..high] are undecided; the rest are larger and not taken.
  while (low <= high) {
    const [j, i] = partition(values, low, high);
    let smaller = 0;
    for (let k = low; k <= j; k++) smaller += values[k] * values[k];
    if (energy + smaller > limit) {
      high = j;
      continue;
    }
    energy += smaller;
    for (let k = j + 1; k < i && k <= high; k++) {
      if (energy + values[k] * values[k] > limit) return { taken: k, energy };
      energy += values[k] * values[k];
    }
    low = Math.min(i, high + 1);
  }
  return { taken: low, energy };
}
