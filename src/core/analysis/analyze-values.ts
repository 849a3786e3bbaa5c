/**
 * Every figure for one tensor's values, from two passes over them: statistics,
 * histograms, per-channel norms, the pruning curve and the quantization round
 * trips. Pure and synchronous; the worker threads call it, and so can tests.
 */
import { InvalidArgumentError, OnnxLensError } from '../errors';
import {
  axisLayout, AxisLayout, FloatArray, INT4_SYMMETRIC_MAX, INT8_SYMMETRIC_MAX, sqnrDbOfEnergies, symmetricScale,
} from '../quant/quantize-math';
import { BinPrefix, logHistogramOf, magnitudeCdfOf, releaseMagnitudeBins, takeMagnitudeBins } from './magnitude-bins';
import { planCollection, pruningFigures } from './pruning';
import {
  ChannelStats, QuantizationAnalysis, QuantizationEstimate, QuantizationScheme, WeightFigures, WeightStats,
} from './report';
import {
  CHANNEL_ABS, CHANNEL_MAX, CHANNEL_MIN, CHANNEL_SQUARES, CHANNEL_STRIDE, FirstPassSums, firstPass, PassLayout, secondPass, SecondPassSums,
} from './weight-passes';

export const HISTOGRAM_BINS = 64;
export const INT4_BLOCK_SIZE = 32;
const NEAR_ZERO_SHARE_OF_MAX = 1e-3;
const DEAD_CHANNEL_SHARE_OF_MEDIAN = 0.05;
const OUTLIER_CHANNEL_GAP_DB = 6;
const FLOAT32_BYTES = 4;
const ANALYSIS_PASSES = 2;

/** Which axes of the tensor mean what to the op that consumes it. */
export interface AnalysisAxes {
  /** The output-channel axis; absent for tensors of rank below 2, which get no per-channel figures. */
  readonly channelAxis?: number;
  /**
   * The adjacent axes, first and last, that int4 blocks run along once
   * flattened together: the axes the op sums over. Absent: the whole tensor, flattened.
   */
  readonly blockAxes?: readonly [number, number];
}

/** The values hold NaN or infinities, so no statistic of them means anything. */
export class NonFiniteValuesError extends OnnxLensError {
  readonly code = 'non-finite-values';

  constructor(readonly count: number) {
    super(`The values hold ${count} NaN or infinite elements.`);
  }
}

export function analyzeValues(values: FloatArray, dims: readonly number[], axes: AnalysisAxes = {}): WeightFigures {
  const n = dims.reduce((a, b) => a * b, 1);
  if (values.length !== n || n === 0) {
    throw new InvalidArgumentError(`values hold ${values.length} elements, but dims [${dims.join(',')}] need ${n}; analysis needs at least one.`);
  }
  const bits = float32BitsOf(values);
  const layout = passLayout(dims, axes);
  const first = firstPass(values, bits, layout, takeMagnitudeBins());
  if (!Number.isFinite(first.sum)) throw new NonFiniteValuesError(countNonFinite(values));
  const prefix = new BinPrefix(first.bins, first.zeros, first.lowestNonZeroBin, first.highestBin);
  releaseMagnitudeBins(first.bins, prefix);
  const plan = planCollection(prefix);
  const constant = first.min === first.max;
  const mean = constant ? first.min : first.sum / n;
  const maxAbs = Math.max(-first.min, first.max);
  const channelMin = channelColumn(first, CHANNEL_MIN);
  const channelMax = channelColumn(first, CHANNEL_MAX);
  const channelMaxAbs = channelMin.map((low, c) => Math.max(-low, channelMax[c]));
  const second = secondPass(values, bits, layout, {
    mean,
    histogramMin: first.min,
    histogramScale: constant ? 0 : HISTOGRAM_BINS / (first.max - first.min),
    histogramBins: HISTOGRAM_BINS,
    nearZeroLimit: NEAR_ZERO_SHARE_OF_MAX * maxAbs,
    tensorScale: symmetricScale(maxAbs, INT8_SYMMETRIC_MAX),
    channelScales: channelMaxAbs.map((m) => symmetricScale(m, INT8_SYMMETRIC_MAX)),
    blockScales: first.blockMaxAbs.map((m) => symmetricScale(m, INT4_SYMMETRIC_MAX)),
    slotOfBin: plan.slotOfBin,
    collectors: plan.collectors,
  });
  const hasChannels = axes.channelAxis !== undefined;
  return {
    stats: statistics(n, first, second, prefix, mean, constant),
    histogram: { min: first.min, max: first.max, counts: Array.from(second.histogram) },
    logHistogram: logHistogramOf(prefix),
    // Absent fields are left out rather than undefined: the figures must survive JSON unchanged.
    ...(hasChannels ? { channels: channelStats(first, axes.channelAxis!) } : {}),
    pruning: { ...pruningFigures(prefix, plan), cdf: magnitudeCdfOf(prefix) },
    quantization: quantization(n, layout, first, second, prefix.energy, hasChannels),
    dataPasses: ANALYSIS_PASSES + (values instanceof Float32Array ? 0 : 1),
  };
}

/** A view of float32 values as their bits; float64 values are rounded to float32 first (an extra pass). */
function float32BitsOf(values: FloatArray): Uint32Array {
  const floats = values instanceof Float32Array ? values : Float32Array.from(values);
  return new Uint32Array(floats.buffer, floats.byteOffset, floats.length);
}

function passLayout(dims: readonly number[], axes: AnalysisAxes): PassLayout {
  const n = dims.reduce((a, b) => a * b, 1);
  const channels: AxisLayout = axes.channelAxis === undefined ? { outer: 1, size: 1, inner: n } : axisLayout(dims, axes.channelAxis);
  const blocks: AxisLayout = axes.blockAxes === undefined ? { outer: 1, size: n, inner: 1 } : flattenedLayout(dims, ...axes.blockAxes);
  const blockCount = blocks.outer * Math.ceil(blocks.size / INT4_BLOCK_SIZE) * blocks.inner;
  return { channels, blocks, blockSize: INT4_BLOCK_SIZE, blockCount };
}

/** axisLayout for the axes first..last taken as one. */
function flattenedLayout(dims: readonly number[], first: number, last: number): AxisLayout {
  if (first > last) throw new InvalidArgumentError(`blockAxes [${first}, ${last}] are not in order.`);
  const before = axisLayout(dims, first);
  const after = axisLayout(dims, last);
  return { outer: before.outer, size: (before.size * before.inner) / after.inner, inner: after.inner };
}

function countNonFinite(values: FloatArray): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) count++;
  return count;
}

function statistics(n: number, first: FirstPassSums, second: SecondPassSums, prefix: BinPrefix, mean: number, constant: boolean): WeightStats {
  const centralSquares = constant ? 0 : second.centralSquares;
  const std = Math.sqrt(centralSquares / n);
  const maxAbs = Math.max(-first.min, first.max);
  return {
    count: n, min: first.min, max: first.max, mean, std, maxAbs,
    l1Norm: prefix.mass,
    l2Norm: Math.sqrt(prefix.energy),
    zeros: first.zeros,
    nearZeroFraction: second.nearZero / n,
    excessKurtosis: centralSquares > 0 ? (n * second.centralFourths) / (centralSquares * centralSquares) - 3 : null,
    outlierRatio: std > 0 ? maxAbs / std : null,
  };
}

/** One field of every channel's accumulators. */
function channelColumn(first: FirstPassSums, field: number): Float64Array {
  const column = new Float64Array(first.channels.length / CHANNEL_STRIDE);
  for (let c = 0; c < column.length; c++) column[c] = first.channels[c * CHANNEL_STRIDE + field];
  return column;
}

function channelStats(first: FirstPassSums, axis: number): ChannelStats {
  const l2 = Array.from(channelColumn(first, CHANNEL_SQUARES), Math.sqrt);
  const medianL2 = median(l2);
  return {
    axis,
    l1: Array.from(channelColumn(first, CHANNEL_ABS)),
    l2,
    min: Array.from(channelColumn(first, CHANNEL_MIN)),
    max: Array.from(channelColumn(first, CHANNEL_MAX)),
    medianL2,
    dead: l2.flatMap((norm, channel) => (norm < DEAD_CHANNEL_SHARE_OF_MEDIAN * medianL2 ? [channel] : [])),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function quantization(
  n: number, layout: PassLayout, first: FirstPassSums, second: SecondPassSums, signal: number, hasChannels: boolean,
): QuantizationAnalysis {
  const estimate = (scheme: QuantizationScheme, noise: number, bytes: number): QuantizationEstimate => {
    if (noise === 0) return { scheme, outcome: 'lossless', sqnrDb: null, bytes };
    if (!Number.isFinite(noise)) return { scheme, outcome: 'overflow', sqnrDb: null, bytes };
    return { scheme, outcome: 'lossy', sqnrDb: sqnrDbOfEnergies(signal, noise), bytes };
  };
  const int8PerTensor = estimate('int8-per-tensor', second.perTensorNoise, n + FLOAT32_BYTES);
  const int8PerChannel = hasChannels ? estimate('int8-per-channel', second.perChannelNoise, n + FLOAT32_BYTES * layout.channels.size) : undefined;
  const gain = int8PerChannel?.sqnrDb != null && int8PerTensor.sqnrDb !== null ? int8PerChannel.sqnrDb - int8PerTensor.sqnrDb : undefined;
  return {
    int8PerTensor,
    ...(int8PerChannel ? { int8PerChannel } : {}),
    int4Block32: estimate('int4-block32', second.blockNoise, Math.ceil(n / 2) + FLOAT32_BYTES * layout.blockCount),
    float16: estimate('float16', first.float16Noise, 2 * n),
    ...(gain === undefined ? {} : { perChannelGainDb: gain }),
    // A lossless per-channel round trip against a lossy per-tensor one is an infinite gain.
    outlierChannels: int8PerTensor.outcome === 'lossy' && (int8PerChannel?.outcome === 'lossless' || (gain ?? 0) > OUTLIER_CHANNEL_GAP_DB),
  };
}
