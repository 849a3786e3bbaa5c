/**
 * Streaming int8 arithmetic for whole-model quantization, built on the shared
 * quantization math: the same integers as quantizePerTensor, computed in two
 * passes over a tensor's raw float32 bytes, read where they are when aligned.
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

let alignedScratch = new Float32Array(0);

/**
 * Little-endian float32 bytes as a Float32Array: a view where the bytes are
 * 4-byte aligned, otherwise a copy (protobuf puts raw_data at any offset).
 * The copy goes to memory this thread reuses from tensor to tensor, since a
 * fresh buffer costs a page fault per 4 KiB; it is valid until the next call.
 */
function float32View(raw: Uint8Array): Float32Array {
  const count = raw.byteLength >>> 2;
  if (raw.byteOffset % Float32Array.BYTES_PER_ELEMENT === 0) return new Float32Array(raw.buffer, raw.byteOffset, count);
  if (alignedScratch.length < count) alignedScratch = new Float32Array(count);
  const copy = alignedScratch.subarray(0, count);
  new Uint8Array(copy.buffer, 0, count * 4).set(raw.subarray(0, count * 4));
  return copy;
}

/** Symmetric int8 per-tensor of raw float32 bytes in two streaming passes; non-finite values give a non-finite scale. */
export function quantizeRawInt8PerTensor(raw: Uint8Array): RawInt8Result {
  const floats = float32View(raw);
  const max = maxAbsolute(floats);
  const scale = Number.isFinite(max) ? symmetricScale(max, INT8_SYMMETRIC_MAX) : NaN;
  const values = new Int8Array(floats.length);
  const sums: ErrorSums = { signal: 0, noise: 0 };
  if (Number.isFinite(scale)) quantizeWithScaleInto(floats, scale, values, 0, sums);
  return { values, scale, sums };
}

const FLOAT32_MAGNITUDE_MASK = 0x7fffffff;
const FLOAT32_INFINITY_BITS = 0x7f800000;

/**
 * Largest |w| of the values (NaN when one is NaN).
 * Compares the magnitude bits as integers: for float32 their order is the
 * order of |w|, NaNs sort above infinity, and the loop has no float branches.
 */
export function maxAbsolute(values: Float32Array): number {
  const bits = new Int32Array(values.buffer, values.byteOffset, values.length);
  let high0 = 0;
  let high1 = 0;
  let i = 0;
  for (; i + 1 < bits.length; i += 2) {
    const magnitude0 = bits[i] & FLOAT32_MAGNITUDE_MASK;
    const magnitude1 = bits[i + 1] & FLOAT32_MAGNITUDE_MASK;
    if (magnitude0 > high0) high0 = magnitude0;
    if (magnitude1 > high1) high1 = magnitude1;
  }
  if (i < bits.length) high0 = Math.max(high0, bits[i] & FLOAT32_MAGNITUDE_MASK);
  const high = Math.max(high0, high1);
  if (high > FLOAT32_INFINITY_BITS) return NaN;
  return new Float32Array(Int32Array.of(high).buffer)[0];
}

/**
 * Quantizes `values` with one given scale into `out` from `offset`, with the
 * rounding of quantizePerTensor (the quotient rounded half to even), and adds
 * to `sums` what quantization loses.
 */
export function quantizeWithScaleInto(values: Float32Array, scale: number, out: Int8Array, offset: number, sums: ErrorSums): void {
  // Two elements a step, each with its own sums, so that the additions do not wait on each other.
  let signal0 = 0;
  let signal1 = 0;
  let noise0 = 0;
  let noise1 = 0;
  let i = 0;
  for (; i + 1 < values.length; i += 2) {
    const v0 = values[i];
    const v1 = values[i + 1];
    const q0 = quantizedValue(v0, scale);
    const q1 = quantizedValue(v1, scale);
    out[offset + i] = q0;
    out[offset + i + 1] = q1;
    const e0 = v0 - q0 * scale;
    const e1 = v1 - q1 * scale;
    signal0 += v0 * v0;
    signal1 += v1 * v1;
    noise0 += e0 * e0;
    noise1 += e1 * e1;
  }
  if (i < values.length) {
    const q = quantizedValue(values[i], scale);
    out[offset + i] = q;
    signal0 += values[i] * values[i];
    noise0 += (values[i] - q * scale) ** 2;
  }
  sums.signal += signal0 + signal1;
  sums.noise += noise0 + noise1;
}

function quantizedValue(value: number, scale: number): number {
  const q = value / scale + ROUNDING_MAGIC - ROUNDING_MAGIC;
  return q > INT8_SYMMETRIC_MAX ? INT8_SYMMETRIC_MAX : q < -INT8_SYMMETRIC_MAX ? -INT8_SYMMETRIC_MAX : q;
}
