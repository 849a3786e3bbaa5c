/**
 * Streaming int8 arithmetic for whole-model quantization, built on the shared
 * quantization math: the same integers as quantizePerTensor, computed in two
 * passes over a tensor's raw little-endian float32 bytes, read where they are
 * through a DataView (protobuf puts raw_data at any offset, and V8 compiles
 * DataView reads to plain loads, faster here than copying to align).
 * Pure functions, so that worker threads run them too.
 */
import { INT8_SYMMETRIC_MAX, symmetricScale } from '../quant/quantize-math';

/** Running sums for an SQNR: Σw² and Σ(w - ŵ)². */
export interface ErrorSums {
  signal: number;
  noise: number;
}

export interface RawInt8Result {
  readonly values: Int8Array;
  readonly scale: number;
  readonly sums: ErrorSums;
}

/** Adding then subtracting 1.5 · 2^52 rounds |x| < 2^51 to an integer, halves to even (as numpy and ORT), without Math.round's branch. */
const ROUNDING_MAGIC = 1.5 * 2 ** 52;
const FLOAT32_BYTES = 4;
const FLOAT32_MAGNITUDE_MASK = 0x7fffffff;
const FLOAT32_INFINITY_BITS = 0x7f800000;
/**
 * The loops run a chunk per call: V8 optimizes a function after a few calls,
 * while one long first call would stay in slower on-stack-replaced code.
 */
const CHUNK_BYTES = 1 << 18;

/** Symmetric int8 per-tensor of raw float32 bytes in two streaming passes; non-finite values give a non-finite scale. */
export function quantizeRawInt8PerTensor(raw: Uint8Array): RawInt8Result {
  const bytes = new DataView(raw.buffer, raw.byteOffset, raw.byteLength - (raw.byteLength % FLOAT32_BYTES));
  const max = maxAbsoluteOf(bytes);
  const scale = Number.isFinite(max) ? symmetricScale(max, INT8_SYMMETRIC_MAX) : NaN;
  const values = new Int8Array(bytes.byteLength / FLOAT32_BYTES);
  const sums: ErrorSums = { signal: 0, noise: 0 };
  if (!Number.isFinite(scale)) return { values, scale, sums };
  for (let start = 0; start < values.length; start += CHUNK_BYTES / FLOAT32_BYTES) {
    quantizeWithScaleInto(bytes, scale, values, start, Math.min(start + CHUNK_BYTES / FLOAT32_BYTES, values.length), sums);
  }
  return { values, scale, sums };
}

/** Largest |w| of the values (NaN when one is NaN). */
export function maxAbsolute(values: Float32Array): number {
  return maxAbsoluteOf(new DataView(values.buffer, values.byteOffset, values.byteLength));
}

/**
 * Largest |w| of float32 bytes. Compares the magnitude bits as integers: for
 * float32 their order is the order of |w|, NaNs sort above infinity, and the
 * loop has no float branches.
 */
function maxAbsoluteOf(bytes: DataView): number {
  let high = 0;
  for (let start = 0; start < bytes.byteLength; start += CHUNK_BYTES) {
    high = Math.max(high, highestMagnitudeBits(bytes, start, Math.min(start + CHUNK_BYTES, bytes.byteLength)));
  }
  if (high > FLOAT32_INFINITY_BITS) return NaN;
  return new Float32Array(Int32Array.of(high).buffer)[0];
}

function highestMagnitudeBits(bytes: DataView, start: number, end: number): number {
  let high0 = 0;
  let high1 = 0;
  let at = start;
  for (; at + 2 * FLOAT32_BYTES <= end; at += 2 * FLOAT32_BYTES) {
    const magnitude0 = bytes.getInt32(at, true) & FLOAT32_MAGNITUDE_MASK;
    const magnitude1 = bytes.getInt32(at + FLOAT32_BYTES, true) & FLOAT32_MAGNITUDE_MASK;
    if (magnitude0 > high0) high0 = magnitude0;
    if (magnitude1 > high1) high1 = magnitude1;
  }
  if (at < end) high0 = Math.max(high0, bytes.getInt32(at, true) & FLOAT32_MAGNITUDE_MASK);
  return Math.max(high0, high1);
}

/**
 * Quantizes the float32 values [start, end) of `bytes` with one given scale
 * into `out`, with the rounding of quantizePerTensor (the quotient rounded half
 * to even), and adds to `sums` what quantization loses.
 */
function quantizeWithScaleInto(bytes: DataView, scale: number, out: Int8Array, start: number, end: number, sums: ErrorSums): void {
  // Two elements a step, each with its own sums, so that the additions do not wait on each other.
  let signal0 = 0;
  let signal1 = 0;
  let noise0 = 0;
  let noise1 = 0;
  let i = start;
  for (; i + 1 < end; i += 2) {
    const v0 = bytes.getFloat32(i * FLOAT32_BYTES, true);
    const v1 = bytes.getFloat32((i + 1) * FLOAT32_BYTES, true);
    const q0 = quantizedValue(v0, scale);
    const q1 = quantizedValue(v1, scale);
    out[i] = q0;
    out[i + 1] = q1;
    const e0 = v0 - q0 * scale;
    const e1 = v1 - q1 * scale;
    signal0 += v0 * v0;
    signal1 += v1 * v1;
    noise0 += e0 * e0;
    noise1 += e1 * e1;
  }
  if (i < end) {
    const v = bytes.getFloat32(i * FLOAT32_BYTES, true);
    const q = quantizedValue(v, scale);
    out[i] = q;
    signal0 += v * v;
    noise0 += (v - q * scale) ** 2;
  }
  sums.signal += signal0 + signal1;
  sums.noise += noise0 + noise1;
}

/**
 * No clamp: the scale is fround(max|w| / 127), at most one float32 rounding
 * below the exact quotient, so |w| / scale stays under 127.5 and rounds to 127 at most.
 */
function quantizedValue(value: number, scale: number): number {
  return value / scale + ROUNDING_MAGIC - ROUNDING_MAGIC;
}
