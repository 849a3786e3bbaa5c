/**
 * Fine bins over |w|, indexed by the top bits of the float32 pattern with the
 * sign dropped: 8 exponent bits and the first 7 mantissa bits. Patterns of
 * non-negative floats sort like the floats, so the bins are ordered by
 * magnitude, each spans 1/128 of a power of two, and one pass fills them with
 * no range known in advance. Everything that needs sorted magnitudes (the
 * magnitude CDF, the log histogram, exact pruning ranks) starts from them.
 */
import { LogHistogram, MagnitudeCdf } from './report';

const MAGNITUDE_BIN_SHIFT = 16;
const MAGNITUDE_BIN_COUNT = 1 << 15;
/** Bins are interleaved, BIN_STRIDE numbers each: element count, Σw² and Σ|w| of the bin, which one cache line holds. */
const BIN_COUNT_FIELD = 0;
const BIN_ENERGY_FIELD = 1;
const BIN_MASS_FIELD = 2;
const BIN_STRIDE = 3;
// Exported by list so that this module's loops read local constants, not properties of `exports`.
export { MAGNITUDE_BIN_SHIFT, MAGNITUDE_BIN_COUNT, BIN_COUNT_FIELD, BIN_ENERGY_FIELD, BIN_MASS_FIELD, BIN_STRIDE };

const SMALLEST_POSITIVE_FLOAT32 = 2 ** -149;
const LOG_HISTOGRAM_BINS = 64;
/** The log histogram spans at most this many decades below the largest magnitude. */
const LOG_HISTOGRAM_DECADES = 12;
/** Fractions move by at most this much between two thresholds of the magnitude CDF. */
export const CDF_RESOLUTION = 2e-3;

let spareBins: Float64Array | undefined;

/**
 * Zeroed bins: the spare that releaseMagnitudeBins left when there is one,
 * since a fresh 768 KiB array costs about 200 page faults, more than
 * analyzing a small tensor.
 */
export function takeMagnitudeBins(): Float64Array {
  const bins = spareBins ?? new Float64Array(MAGNITUDE_BIN_COUNT * BIN_STRIDE);
  spareBins = undefined;
  return bins;
}

/** Zeroes the bins the prefix says were used and keeps them for the next tensor. */
export function releaseMagnitudeBins(bins: Float64Array, prefix: BinPrefix): void {
  bins.fill(0, 0, BIN_STRIDE);
  bins.fill(0, prefix.first * BIN_STRIDE, prefix.end * BIN_STRIDE);
  spareBins = bins;
}

/**
 * Running totals over the bins: how many elements, how much Σw² and Σ|w| lie
 * in the bins below a given one. Kept for [first, end) only, from the lowest
 * bin with a non-zero value to one past the highest bin used (exact zeros,
 * alone in bin 0, are all below `first` unless bin 0 also holds non-zeros).
 */
export class BinPrefix {
  readonly first: number;
  readonly end: number;
  readonly count: number;
  readonly energy: number;
  readonly mass: number;
  private readonly counts: Float64Array;
  private readonly energies: Float64Array;
  private readonly masses: Float64Array;

  /** `zeros` exact zeros are the first elements of bin 0; the two bins come from the first pass. */
  constructor(bins: Float64Array, readonly zeros: number, lowestNonZeroBin: number, highestBin: number) {
    const first = Math.min(lowestNonZeroBin, highestBin);
    const end = highestBin + 1;
    const length = end - first + 1;
    const counts = new Float64Array(length);
    const energies = new Float64Array(length);
    const masses = new Float64Array(length);
    counts[0] = first > 0 ? zeros : 0;
    for (let k = 1, at = first * BIN_STRIDE; k < length; k++, at += BIN_STRIDE) {
      counts[k] = counts[k - 1] + bins[at + BIN_COUNT_FIELD];
      energies[k] = energies[k - 1] + bins[at + BIN_ENERGY_FIELD];
      masses[k] = masses[k - 1] + bins[at + BIN_MASS_FIELD];
    }
    this.first = first;
    this.end = end;
    this.counts = counts;
    this.energies = energies;
    this.masses = masses;
    this.count = counts[length - 1];
    this.energy = energies[length - 1];
    this.mass = masses[length - 1];
  }

  countBelow(bin: number): number {
    return bin === 0 ? 0 : this.counts[this.offset(bin)];
  }

  energyBelow(bin: number): number {
    return this.energies[this.offset(bin)];
  }

  massBelow(bin: number): number {
    return this.masses[this.offset(bin)];
  }

  /** Elements in the bin, zeros left out. */
  nonZeroIn(bin: number): number {
    return this.countBelow(bin + 1) - this.countBelow(bin) - (bin === 0 ? this.zeros : 0);
  }

  /** The bin holding the element of rank k (0-based, by magnitude); k below the zeros is in bin 0. */
  binOfRank(k: number): number {
    if (k < this.zeros) return 0;
    let low = this.first;
    let high = this.end - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.countBelow(middle + 1) > k) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** The bin within which the energy of the smallest magnitudes first exceeds `limit`; none when the total does not. */
  binWhereEnergyExceeds(limit: number): number | undefined {
    if (this.energy <= limit) return undefined;
    let bin = this.first;
    while (this.energyBelow(bin + 1) <= limit) bin++;
    return bin;
  }

  private offset(bin: number): number {
    return Math.min(Math.max(bin - this.first, 0), this.end - this.first);
  }
}

const edgeBits = new Uint32Array(1);
const edgeFloat = new Float32Array(edgeBits.buffer);

/** The smallest magnitude in bin b, which is also the supremum of bin b − 1; finite for every bin a finite float32 reaches. */
export function binLowerEdge(bin: number): number {
  edgeBits[0] = bin << MAGNITUDE_BIN_SHIFT;
  return Math.min(edgeFloat[0], Number.MAX_VALUE);
}

function binOfMagnitude(magnitude: number): number {
  edgeFloat[0] = magnitude;
  return edgeBits[0] >>> MAGNITUDE_BIN_SHIFT;
}

/** Non-zero elements below bin b's lower edge (for b = 0: below the smallest positive float, so none). */
function nonZeroBelow(prefix: BinPrefix, bin: number): number {
  return bin === 0 ? 0 : prefix.countBelow(bin) - prefix.zeros;
}

/** A magnitude edge at bin b; bin 0's edge is the smallest positive float32, so that zeros stay apart. */
function positiveEdge(bin: number): number {
  return bin === 0 ? SMALLEST_POSITIVE_FLOAT32 : binLowerEdge(bin);
}

/** The log10|w| histogram, its edges snapped to bin edges so that every count is exact. */
export function logHistogramOf(prefix: BinPrefix): LogHistogram {
  if (prefix.count === prefix.zeros) return { edges: [], counts: [], zeros: prefix.zeros, belowRange: 0 };
  let lowest = prefix.first;
  while (prefix.nonZeroIn(lowest) === 0) lowest++;
  const top = positiveEdge(prefix.end);
  const bottom = Math.max(positiveEdge(lowest), top / 10 ** LOG_HISTOGRAM_DECADES);
  const [logBottom, logTop] = [Math.log10(bottom), Math.log10(top)];
  const edgeBins = [binOfMagnitude(bottom)];
  for (let k = 1; k < LOG_HISTOGRAM_BINS; k++) {
    const bin = binOfMagnitude(10 ** (logBottom + (k / LOG_HISTOGRAM_BINS) * (logTop - logBottom)));
    if (bin > edgeBins[edgeBins.length - 1] && bin < prefix.end) edgeBins.push(bin);
  }
  edgeBins.push(prefix.end);
  return {
    edges: edgeBins.map(positiveEdge),
    counts: edgeBins.slice(1).map((bin, k) => nonZeroBelow(prefix, bin) - nonZeroBelow(prefix, edgeBins[k])),
    zeros: prefix.zeros,
    belowRange: nonZeroBelow(prefix, edgeBins[0]),
  };
}

/**
 * The magnitude CDF at bin edges, keeping only enough edges that no fraction
 * (elements, energy, mass) moves by more than CDF_RESOLUTION between two
 * kept edges, unless one bin alone does.
 */
export function magnitudeCdfOf(prefix: BinPrefix): MagnitudeCdf {
  const fraction = (value: number, total: number) => (total > 0 ? value / total : 0);
  const cdf = { count: prefix.count, resolution: CDF_RESOLUTION, thresholds: [0], elementsBelow: [0], energyBelow: [0], massBelow: [0] };
  const keep = (threshold: number, elements: number, bin: number) => {
    cdf.thresholds.push(threshold);
    cdf.elementsBelow.push(elements);
    cdf.energyBelow.push(fraction(prefix.energyBelow(bin), prefix.energy));
    cdf.massBelow.push(fraction(prefix.massBelow(bin), prefix.mass));
  };
  // Below the smallest positive float lie exactly the zeros.
  keep(SMALLEST_POSITIVE_FLOAT32, prefix.zeros, 0);
  let kept = 0;
  const movesTooFar = (bin: number) =>
    (prefix.countBelow(bin) - Math.max(prefix.countBelow(kept), prefix.zeros)) / prefix.count > CDF_RESOLUTION ||
    fraction(prefix.energyBelow(bin) - prefix.energyBelow(kept), prefix.energy) > CDF_RESOLUTION ||
    fraction(prefix.massBelow(bin) - prefix.massBelow(kept), prefix.mass) > CDF_RESOLUTION;
  for (let bin = Math.max(prefix.first, 1); bin < prefix.end; bin++) {
    // An empty bin moves no fraction: the decision is the same at the next bin that holds something.
    if (prefix.countBelow(bin + 1) === prefix.countBelow(bin)) continue;
    if (movesTooFar(bin + 1) && bin > kept && prefix.countBelow(bin) > prefix.countBelow(kept)) {
      keep(binLowerEdge(bin), prefix.countBelow(bin), bin);
      kept = bin;
    }
  }
  keep(binLowerEdge(prefix.end), prefix.count, prefix.end);
  return cdf;
}
