/**
 * The quantization arithmetic shared by the analysis (which measures what a
 * scheme would lose) and the passes (which apply it): r = scale * (q - zeroPoint).
 * All schemes here are symmetric (zero point 0), as ONNX Runtime's weight
 * quantization is by default: int8 uses [-127, 127], int4 [-7, 7].
 */
import { float16BitsToNumber } from '../tensor/float-formats';

export type FloatArray = Float32Array | Float64Array;

export interface AxisLayout {
  /** Product of the dimensions before the axis. */
  readonly outer: number;
  /** Size of the axis. */
  readonly size: number;
  /** Product of the dimensions after the axis. */
  readonly inner: number;
}

/** Element (o, a, i) of a row-major tensor sits at (o * size + a) * inner + i. */
export function axisLayout(dims: readonly number[], axis: number): AxisLayout {
  const normalized = axis < 0 ? axis + dims.length : axis;
  if (normalized < 0 || normalized >= dims.length) throw new RangeError(`axis ${axis} is outside a tensor of rank ${dims.length}.`);
  const product = (list: readonly number[]) => list.reduce((a, b) => a * b, 1);
  return { outer: product(dims.slice(0, normalized)), size: dims[normalized], inner: product(dims.slice(normalized + 1)) };
}

export const INT8_SYMMETRIC_MAX = 127;
export const INT4_SYMMETRIC_MAX = 7;

export interface SymmetricQuantization {
  /** Quantized integers, one per element, in the input's order. */
  readonly values: Int8Array;
  /** One scale per group: 1 for per-tensor, one per channel, or one per block. */
  readonly scales: Float32Array;
}

/** Scale that maps max|w| onto qmax; a group of zeros gets scale 1 so that it stays zero and divides safely. */
export function symmetricScale(maxAbs: number, qmax: number): number {
  return maxAbs > 0 ? Math.fround(maxAbs / qmax) : 1;
}

/** Rounds halves to even, as numpy and ONNX Runtime's quantizers do (Math.round rounds them up). */
export function roundHalfToEven(value: number): number {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

function quantizeValue(value: number, scale: number, qmax: number): number {
  const q = roundHalfToEven(value / scale);
  return q > qmax ? qmax : q < -qmax ? -qmax : q;
}

/** One scale for the whole tensor. */
export function quantizePerTensor(values: FloatArray, qmax = INT8_SYMMETRIC_MAX): SymmetricQuantization {
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]));
  const scale = symmetricScale(maxAbs, qmax);
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = quantizeValue(values[i], scale, qmax);
  return { values: out, scales: Float32Array.of(scale) };
}

/** One scale per index along `axis` (the output channel of the consuming op). */
export function quantizePerChannel(values: FloatArray, dims: readonly number[], axis: number, qmax = INT8_SYMMETRIC_MAX): SymmetricQuantization {
  const { outer, size, inner } = axisLayout(dims, axis);
  const maxAbs = new Float64Array(size);
  forEachAlongAxis(outer, size, inner, (index, channel) => {
    maxAbs[channel] = Math.max(maxAbs[channel], Math.abs(values[index]));
  });
  const scales = Float32Array.from(maxAbs, (m) => symmetricScale(m, qmax));
  const out = new Int8Array(values.length);
  forEachAlongAxis(outer, size, inner, (index, channel) => {
    out[index] = quantizeValue(values[index], scales[channel], qmax);
  });
  return { values: out, scales };
}

/**
 * Blocks of `blockSize` consecutive indices along `axis` share a scale (the
 * last block may be shorter). Scales are laid out as the tensor with `axis`
 * shrunk to ceil(size / blockSize): the layout of DequantizeLinear's block_size.
 */
export function quantizeBlockwise(
  values: FloatArray, dims: readonly number[], axis: number, blockSize: number, qmax = INT4_SYMMETRIC_MAX,
): SymmetricQuantization {
  const { outer, size, inner } = axisLayout(dims, axis);
  const blocks = Math.ceil(size / blockSize);
  const scaleIndex = (o: number, a: number, i: number) => (o * blocks + Math.floor(a / blockSize)) * inner + i;
  const maxAbs = new Float64Array(outer * blocks * inner);
  forEachElement(outer, size, inner, (index, o, a, i) => {
    const s = scaleIndex(o, a, i);
    maxAbs[s] = Math.max(maxAbs[s], Math.abs(values[index]));
  });
  const scales = Float32Array.from(maxAbs, (m) => symmetricScale(m, qmax));
  const out = new Int8Array(values.length);
  forEachElement(outer, size, inner, (index, o, a, i) => {
    out[index] = quantizeValue(values[index], scales[scaleIndex(o, a, i)], qmax);
  });
  return { values: out, scales };
}

/** The real values a per-tensor, per-channel or block-wise quantization stands for. */
export function dequantize(
  quantized: SymmetricQuantization, dims: readonly number[], grouping: { axis?: number; blockSize?: number } = {},
): Float32Array {
  const out = new Float32Array(quantized.values.length);
  if (grouping.axis === undefined) {
    const scale = quantized.scales[0];
    for (let i = 0; i < out.length; i++) out[i] = quantized.values[i] * scale;
    return out;
  }
  const { outer, size, inner } = axisLayout(dims, grouping.axis);
  const blockSize = grouping.blockSize ?? 1;
  const blocks = Math.ceil(size / blockSize);
  forEachElement(outer, size, inner, (index, o, a, i) => {
    const scale = grouping.blockSize ? quantized.scales[(o * blocks + Math.floor(a / blockSize)) * inner + i] : quantized.scales[a];
    out[index] = quantized.values[index] * scale;
  });
  return out;
}

/** Rounds each value to the nearest float16 (ties to even), returned as float32 values. */
export function roundToFloat16(values: FloatArray): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float16BitsToNumber(floatToFloat16Bits(values[i]));
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a number, round to nearest even; overflow becomes infinity. */
export function floatToFloat16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    return sign | roundShift(full, shift);
  }
  // Rounding may carry into the exponent, which is the correct result (up to infinity).
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

function roundShift(value: number, shift: number): number {
  const truncated = value >>> shift;
  const remainder = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return remainder > half || (remainder === half && (truncated & 1)) ? truncated + 1 : truncated;
}

/** Signal-to-quantization-noise ratio in dB: 10·log10(Σw² / Σ(w - ŵ)²); Infinity when exact. */
export function sqnrDb(original: FloatArray, reconstructed: FloatArray): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < original.length; i++) {
    signal += original[i] * original[i];
    const error = original[i] - reconstructed[i];
    noise += error * error;
  }
  if (noise === 0) return Infinity;
  return 10 * Math.log10(signal / noise);
}

function forEachAlongAxis(outer: number, size: number, inner: number, visit: (index: number, position: number) => void): void {
  forEachElement(outer, size, inner, (index, _o, a) => visit(index, a));
}

function forEachElement(outer: number, size: number, inner: number, visit: (index: number, o: number, a: number, i: number) => void): void {
  let index = 0;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < size; a++) {
      for (let i = 0; i < inner; i++) visit(index++, o, a, i);
    }
  }
}

/** Adding then subtracting 1.5 · 2^52 rounds any |x| < 2^51 to an integer, halves to even: IEEE addition does the rounding. */
const ROUND_HALF_EVEN_MAGIC = 1.5 * 2 ** 52;

/**
 * One element through a symmetric quantizer and back: the value that
 * dequantize(quantize…(…)) holds for it, without allocating, so that an
 * analysis can fuse several schemes into one pass over a tensor. Clamping
 * before rounding gives the same integer as rounding before clamping.
 */
export function symmetricRoundTrip(value: number, scale: number, qmax: number): number {
  let scaled = value / scale;
  scaled = scaled > qmax ? qmax : scaled < -qmax ? -qmax : scaled;
  return Math.fround((scaled + ROUND_HALF_EVEN_MAGIC - ROUND_HALF_EVEN_MAGIC) * scale);
}

const FLOAT16_OVERFLOW_BITS = 0x477ff000; // 65520: halfway past float16's largest, 65504, rounds to infinity
const FLOAT32_INFINITY_BITS = 0x7f800000;
const FLOAT16_MIN_NORMAL_EXPONENT_FIELD = 113; // float32 exponent field of 2^-14, float16's smallest normal

/**
 * Per float32 exponent field, the constant 1.5 · 2^(e + 42) whose addition
 * rounds a value of exponent e to float16's spacing there, 2^(e − 10)
 * (2^-24 throughout float16's subnormal range).
 */
const FLOAT16_ROUNDING = Float64Array.from({ length: 256 }, (_, field) =>
  1.5 * 2 ** (Math.max(field, FLOAT16_MIN_NORMAL_EXPONENT_FIELD) - 127 + 42));

/**
 * The float16 nearest to a float32 (ties to even), as a number: what
 * roundToFloat16 gives for one element, except that -0 comes back as 0.
 * Takes the value and its bit pattern together, as a fused pass over a
 * Float32Array and a Uint32Array view of it has both.
 */
export function float16RoundTrip(value: number, bits: number): number {
  const magnitude = bits & 0x7fffffff;
  if (magnitude >= FLOAT16_OVERFLOW_BITS) {
    if (magnitude > FLOAT32_INFINITY_BITS) return NaN;
    return value > 0 ? Infinity : -Infinity;
  }
  const rounding = FLOAT16_ROUNDING[magnitude >>> 23];
  return value + rounding - rounding;
}

/** sqnrDb from the two energies, Σw² and Σ(w − ŵ)², for passes that accumulate them as they go. */
export function sqnrDbOfEnergies(signal: number, noise: number): number {
  if (noise === 0) return Infinity;
  return 10 * Math.log10(signal / noise);
}
