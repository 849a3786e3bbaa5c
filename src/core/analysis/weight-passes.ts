/**
 * The two passes over a tensor's values that every figure comes from. The
 * first needs nothing in advance; the second needs the mean, the range and
 * the quantization scales the first one found.
 *
 * Each pass streams the tensor once, a chunk at a time; over each chunk (small
 * enough to stay in the L1 cache) it runs two light loops rather than one
 * heavy one, which V8 compiles far better: one for the figures that ignore
 * where an element sits, one for per-channel and per-block figures. What the
 * loops carry from chunk to chunk lives in typed arrays, not object fields:
 * V8 re-types fields as new objects come and go, and threw away the loops'
 * optimized code each time it did.
 */
import {
  AxisLayout, FloatArray, float16RoundTrip, INT4_SYMMETRIC_MAX, INT8_SYMMETRIC_MAX, symmetricRoundTrip,
} from '../quant/quantize-math';
import { BIN_COUNT_FIELD, BIN_ENERGY_FIELD, BIN_MASS_FIELD, BIN_STRIDE, MAGNITUDE_BIN_COUNT, MAGNITUDE_BIN_SHIFT } from './magnitude-bins';

const CHUNK = 2048;

// The hot loops read imported constants through module consts, which V8 folds like literals; an import read in a loop halved its speed.
const SHIFT = MAGNITUDE_BIN_SHIFT;
const STRIDE = BIN_STRIDE;
const COUNT = BIN_COUNT_FIELD;
const ENERGY = BIN_ENERGY_FIELD;
const MASS = BIN_MASS_FIELD;
const INT8_MAX = INT8_SYMMETRIC_MAX;
const INT4_MAX = INT4_SYMMETRIC_MAX;

/** Per-channel accumulators, interleaved so that one channel's sit in one cache line. */
const CHANNEL_ABS = 0;
const CHANNEL_SQUARES = 1;
const CHANNEL_MIN = 2;
const CHANNEL_MAX = 3;
const CHANNEL_STRIDE = 4;
// Exported by list: an `export const` would be read as a property of `exports` inside this module's loops.
export { CHANNEL_ABS, CHANNEL_SQUARES, CHANNEL_MIN, CHANNEL_MAX, CHANNEL_STRIDE };

/** Where each element sits: its output channel, and its block of `blockSize` along the block axis. */
export interface PassLayout {
  readonly channels: AxisLayout;
  readonly blocks: AxisLayout;
  readonly blockSize: number;
  readonly blockCount: number;
}

/**
 * Where the next element sits, as counters over the row-major walk: its
 * output channel, and its block (block row + position in the block run). The
 * two loops that need positions advance these counters inline, the same steps
 * in both: filling index arrays instead cost a third of the passes' time.
 */
const CHANNEL = 0;
const IN_CHANNEL_RUN = 1;
const BLOCK_ROW = 2;
const IN_BLOCK_RUN = 3;
const ALONG_BLOCK_AXIS = 4;
const IN_BLOCK = 5;
const CURSOR_SIZE = 6;

export interface FirstPassSums {
  /** Lowest bin holding a non-zero value (MAGNITUDE_BIN_COUNT when none does), and the highest bin holding anything. */
  readonly lowestNonZeroBin: number;
  readonly highestBin: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly zeros: number;
  readonly float16Noise: number;
  /** Magnitude bins, BIN_STRIDE numbers per bin. */
  readonly bins: Float64Array;
  /** CHANNEL_STRIDE numbers per channel. */
  readonly channels: Float64Array;
  readonly blockMaxAbs: Float64Array;
}

const MIN = 0;
const MAX = 1;
const SUM = 2;
const ZEROS = 3;
const FLOAT16_NOISE = 4;
const LOWEST_NON_ZERO_BIN = 5;
const HIGHEST_BIN = 6;

/**
 * `bits[i]` is the float32 bit pattern of `values[i]` (rounded to float32 when
 * the values are float64); `bins` are zeroed magnitude bins to fill.
 */
export function firstPass(values: FloatArray, bits: Uint32Array, layout: PassLayout, bins: Float64Array): FirstPassSums {
  const channels = new Float64Array(layout.channels.size * CHANNEL_STRIDE);
  for (let c = 0; c < channels.length; c += CHANNEL_STRIDE) {
    channels[c + CHANNEL_MIN] = Infinity;
    channels[c + CHANNEL_MAX] = -Infinity;
  }
  const blockMaxAbs = new Float64Array(layout.blockCount);
  const scalars = Float64Array.of(Infinity, -Infinity, 0, 0, 0, MAGNITUDE_BIN_COUNT, 0);
  const cursor = new Int32Array(CURSOR_SIZE);
  for (let start = 0; start < values.length; start += CHUNK) {
    const end = Math.min(values.length, start + CHUNK);
    accumulateValues(values, bits, start, end, scalars, bins);
    accumulatePositions(values, start, end, layout, cursor, channels, blockMaxAbs);
  }
  return {
    lowestNonZeroBin: scalars[LOWEST_NON_ZERO_BIN], highestBin: scalars[HIGHEST_BIN],
    min: scalars[MIN], max: scalars[MAX], sum: scalars[SUM], zeros: scalars[ZEROS], float16Noise: scalars[FLOAT16_NOISE],
    bins, channels, blockMaxAbs,
  };
}

function accumulateValues(values: FloatArray, bits: Uint32Array, start: number, end: number, scalars: Float64Array, bins: Float64Array): void {
  let min = scalars[MIN];
  let max = scalars[MAX];
  let sum = scalars[SUM];
  let zeros = scalars[ZEROS];
  let float16Noise = scalars[FLOAT16_NOISE];
  // `| 0` keeps the bin trackers int32, so that comparing them with a bin index converts nothing.
  let lowestNonZeroBin = scalars[LOWEST_NON_ZERO_BIN] | 0;
  let highestBin = scalars[HIGHEST_BIN] | 0;
  for (let i = start; i < end; i++) {
    const value = values[i];
    const word = bits[i];
    const magnitude = Math.abs(value);
    if (value < min) min = value;
    if (value > max) max = value;
    sum += value;
    if (value === 0) zeros++;
    const binIndex = (word & 0x7fffffff) >>> SHIFT;
    if (binIndex < lowestNonZeroBin && value !== 0) lowestNonZeroBin = binIndex;
    if (binIndex > highestBin) highestBin = binIndex;
    const bin = binIndex * STRIDE;
    bins[bin + COUNT]++;
    bins[bin + ENERGY] += value * value;
    bins[bin + MASS] += magnitude;
    const float16Error = value - float16RoundTrip(Math.fround(value), word);
    float16Noise += float16Error * float16Error;
  }
  scalars[MIN] = min;
  scalars[MAX] = max;
  scalars[SUM] = sum;
  scalars[ZEROS] = zeros;
  scalars[FLOAT16_NOISE] = float16Noise;
  scalars[LOWEST_NON_ZERO_BIN] = lowestNonZeroBin;
  scalars[HIGHEST_BIN] = highestBin;
}

function accumulatePositions(
  values: FloatArray, start: number, end: number, layout: PassLayout, cursor: Int32Array, channels: Float64Array, blockMaxAbs: Float64Array,
): void {
  const { size: channelCount, inner: channelRun } = layout.channels;
  const { size: blockAxisSize, inner: blockRun } = layout.blocks;
  const { blockSize } = layout;
  let channel = cursor[CHANNEL];
  let inChannelRun = cursor[IN_CHANNEL_RUN];
  let blockRow = cursor[BLOCK_ROW];
  let inBlockRun = cursor[IN_BLOCK_RUN];
  let alongBlockAxis = cursor[ALONG_BLOCK_AXIS];
  let inBlock = cursor[IN_BLOCK];
  for (let i = start; i < end; i++) {
    const value = values[i];
    const magnitude = Math.abs(value);
    const c = channel * CHANNEL_STRIDE;
    channels[c + CHANNEL_ABS] += magnitude;
    channels[c + CHANNEL_SQUARES] += value * value;
    if (value < channels[c + CHANNEL_MIN]) channels[c + CHANNEL_MIN] = value;
    if (value > channels[c + CHANNEL_MAX]) channels[c + CHANNEL_MAX] = value;
    const block = blockRow + inBlockRun;
    if (magnitude > blockMaxAbs[block]) blockMaxAbs[block] = magnitude;
    if (++inChannelRun === channelRun) {
      inChannelRun = 0;
      if (++channel === channelCount) channel = 0;
    }
    if (++inBlockRun === blockRun) {
      inBlockRun = 0;
      if (++alongBlockAxis === blockAxisSize) {
        alongBlockAxis = 0;
        inBlock = 0;
        blockRow += blockRun;
      } else if (++inBlock === blockSize) {
        inBlock = 0;
        blockRow += blockRun;
      }
    }
  }
  cursor.set([channel, inChannelRun, blockRow, inBlockRun, alongBlockAxis, inBlock]);
}

export interface SecondPassInputs {
  readonly mean: number;
  readonly histogramMin: number;
  /** Bins per unit of value: bins / (max − min), or 0 when every value is the same. */
  readonly histogramScale: number;
  readonly histogramBins: number;
  readonly nearZeroLimit: number;
  readonly tensorScale: number;
  readonly channelScales: Float64Array;
  readonly blockScales: Float64Array;
  /** For each magnitude bin, 1 + the collector its non-zero magnitudes go to, or 0. */
  readonly slotOfBin: Uint8Array;
  readonly collectors: Float64Array[];
}

export interface SecondPassSums {
  readonly centralSquares: number;
  readonly centralFourths: number;
  readonly nearZero: number;
  readonly perTensorNoise: number;
  readonly perChannelNoise: number;
  readonly blockNoise: number;
  readonly histogram: Float64Array;
}

const CENTRAL_SQUARES = 0;
const CENTRAL_FOURTHS = 1;
const NEAR_ZERO = 2;
const PER_TENSOR_NOISE = 3;
const PER_CHANNEL_NOISE = 4;
const BLOCK_NOISE = 5;
const SECOND_PASS_SCALARS = 6;

export function secondPass(values: FloatArray, bits: Uint32Array, layout: PassLayout, inputs: SecondPassInputs): SecondPassSums {
  const scalars = new Float64Array(SECOND_PASS_SCALARS);
  const histogram = new Float64Array(inputs.histogramBins);
  const filled = new Int32Array(inputs.collectors.length);
  const cursor = new Int32Array(CURSOR_SIZE);
  for (let start = 0; start < values.length; start += CHUNK) {
    const end = Math.min(values.length, start + CHUNK);
    spreadValues(values, bits, start, end, inputs, scalars, histogram, filled);
    roundTripValues(values, start, end, layout, cursor, inputs, scalars);
  }
  return {
    centralSquares: scalars[CENTRAL_SQUARES], centralFourths: scalars[CENTRAL_FOURTHS], nearZero: scalars[NEAR_ZERO],
    perTensorNoise: scalars[PER_TENSOR_NOISE], perChannelNoise: scalars[PER_CHANNEL_NOISE], blockNoise: scalars[BLOCK_NOISE],
    histogram,
  };
}

/** Moments about the mean, the linear histogram, near-zeros, and the magnitudes of the bins pruning needs exactly. */
function spreadValues(
  values: FloatArray, bits: Uint32Array, start: number, end: number, inputs: SecondPassInputs,
  scalars: Float64Array, histogram: Float64Array, filled: Int32Array,
): void {
  const { mean, histogramMin, histogramScale, histogramBins, nearZeroLimit, slotOfBin, collectors } = inputs;
  let centralSquares = scalars[CENTRAL_SQUARES];
  let centralFourths = scalars[CENTRAL_FOURTHS];
  let nearZero = scalars[NEAR_ZERO];
  for (let i = start; i < end; i++) {
    const value = values[i];
    const magnitude = Math.abs(value);
    const deviation = value - mean;
    const deviationSquared = deviation * deviation;
    centralSquares += deviationSquared;
    centralFourths += deviationSquared * deviationSquared;
    // Truncation is floor here: value − min is never negative.
    let histogramBin = ((value - histogramMin) * histogramScale) | 0;
    if (histogramBin >= histogramBins) histogramBin = histogramBins - 1;
    histogram[histogramBin]++;
    if (magnitude < nearZeroLimit) nearZero++;
    const slot = slotOfBin[(bits[i] & 0x7fffffff) >>> SHIFT];
    if (slot !== 0 && value !== 0) collectors[slot - 1][filled[slot - 1]++] = magnitude;
  }
  scalars[CENTRAL_SQUARES] = centralSquares;
  scalars[CENTRAL_FOURTHS] = centralFourths;
  scalars[NEAR_ZERO] = nearZero;
}

/** Quantize-then-dequantize each value three ways: int8 per tensor, int8 per channel, int4 per block. */
function roundTripValues(
  values: FloatArray, start: number, end: number, layout: PassLayout, cursor: Int32Array, inputs: SecondPassInputs, scalars: Float64Array,
): void {
  const { tensorScale, channelScales, blockScales } = inputs;
  const { size: channelCount, inner: channelRun } = layout.channels;
  const { size: blockAxisSize, inner: blockRun } = layout.blocks;
  const { blockSize } = layout;
  let channel = cursor[CHANNEL];
  let inChannelRun = cursor[IN_CHANNEL_RUN];
  let blockRow = cursor[BLOCK_ROW];
  let inBlockRun = cursor[IN_BLOCK_RUN];
  let alongBlockAxis = cursor[ALONG_BLOCK_AXIS];
  let inBlock = cursor[IN_BLOCK];
  let perTensorNoise = scalars[PER_TENSOR_NOISE];
  let perChannelNoise = scalars[PER_CHANNEL_NOISE];
  let blockNoise = scalars[BLOCK_NOISE];
  for (let i = start; i < end; i++) {
    const value = values[i];
    const tensorError = value - symmetricRoundTrip(value, tensorScale, INT8_MAX);
    perTensorNoise += tensorError * tensorError;
    const channelError = value - symmetricRoundTrip(value, channelScales[channel], INT8_MAX);
    perChannelNoise += channelError * channelError;
    const blockError = value - symmetricRoundTrip(value, blockScales[blockRow + inBlockRun], INT4_MAX);
    blockNoise += blockError * blockError;
    if (++inChannelRun === channelRun) {
      inChannelRun = 0;
      if (++channel === channelCount) channel = 0;
    }
    if (++inBlockRun === blockRun) {
      inBlockRun = 0;
      if (++alongBlockAxis === blockAxisSize) {
        alongBlockAxis = 0;
        inBlock = 0;
        blockRow += blockRun;
      } else if (++inBlock === blockSize) {
        inBlock = 0;
        blockRow += blockRun;
      }
    }
  }
  cursor.set([channel, inChannelRun, blockRow, inBlockRun, alongBlockAxis, inBlock]);
  scalars[PER_TENSOR_NOISE] = perTensorNoise;
  scalars[PER_CHANNEL_NOISE] = perChannelNoise;
  scalars[BLOCK_NOISE] = blockNoise;
}
