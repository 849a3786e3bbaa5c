/**
 * Decoders for the small float formats ONNX stores as bit patterns:
 * float16, bfloat16, the four float8 variants, float8e8m0 and float4e2m1.
 */

const scratch = new DataView(new ArrayBuffer(4));

export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export function bfloat16BitsToNumber(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) << 16);
  return scratch.getFloat32(0);
}

interface MiniFloatFormat {
  exponentBits: number;
  mantissaBits: number;
  bias: number;
  /** Largest exponent field is infinity/NaN as in IEEE 754 (E5M2 only). */
  ieeeSpecials: boolean;
  /** The negative-zero pattern 0x80 is the only NaN, and there is no -0 (the FNUZ variants). */
  nanIsNegativeZero: boolean;
  /** All exponent and mantissa bits set is NaN (E4M3FN). */
  nanIsAllOnes: boolean;
}

function decodeMiniFloat(bits: number, format: MiniFloatFormat): number {
  const { exponentBits, mantissaBits, bias } = format;
  const signBit = 1 << (exponentBits + mantissaBits);
  const magnitudeMask = signBit - 1;
  if (format.nanIsNegativeZero && bits === signBit) return NaN;
  if (format.nanIsAllOnes && (bits & magnitudeMask) === magnitudeMask) return NaN;
  const sign = bits & signBit ? -1 : 1;
  const exponent = (bits >> mantissaBits) & ((1 << exponentBits) - 1);
  const mantissa = bits & ((1 << mantissaBits) - 1);
  const maxExponent = (1 << exponentBits) - 1;
  if (format.ieeeSpecials && exponent === maxExponent) return mantissa ? NaN : sign * Infinity;
  const fraction = mantissa / (1 << mantissaBits);
  if (exponent === 0) return sign * fraction * 2 ** (1 - bias);
  return sign * (1 + fraction) * 2 ** (exponent - bias);
}

function lookupTable(size: number, decode: (bits: number) => number): Float32Array {
  const table = new Float32Array(size);
  for (let bits = 0; bits < size; bits++) table[bits] = decode(bits);
  return table;
}

const E4M3FN = { exponentBits: 4, mantissaBits: 3, bias: 7, ieeeSpecials: false, nanIsNegativeZero: false, nanIsAllOnes: true };
const E4M3FNUZ = { exponentBits: 4, mantissaBits: 3, bias: 8, ieeeSpecials: false, nanIsNegativeZero: true, nanIsAllOnes: false };
const E5M2 = { exponentBits: 5, mantissaBits: 2, bias: 15, ieeeSpecials: true, nanIsNegativeZero: false, nanIsAllOnes: false };
const E5M2FNUZ = { exponentBits: 5, mantissaBits: 2, bias: 16, ieeeSpecials: false, nanIsNegativeZero: true, nanIsAllOnes: false };
const E2M1 = { exponentBits: 2, mantissaBits: 1, bias: 1, ieeeSpecials: false, nanIsNegativeZero: false, nanIsAllOnes: false };

/** Value of every bit pattern, indexed by the pattern. */
export const FLOAT8_E4M3FN_VALUES = lookupTable(256, (bits) => decodeMiniFloat(bits, E4M3FN));
export const FLOAT8_E4M3FNUZ_VALUES = lookupTable(256, (bits) => decodeMiniFloat(bits, E4M3FNUZ));
export const FLOAT8_E5M2_VALUES = lookupTable(256, (bits) => decodeMiniFloat(bits, E5M2));
export const FLOAT8_E5M2FNUZ_VALUES = lookupTable(256, (bits) => decodeMiniFloat(bits, E5M2FNUZ));
export const FLOAT4_E2M1_VALUES = lookupTable(16, (bits) => decodeMiniFloat(bits, E2M1));
/** float8e8m0 is an unsigned power of two, 2^(bits - 127); 0xFF is NaN. */
export const FLOAT8_E8M0_VALUES = lookupTable(256, (bits) => (bits === 0xff ? NaN : 2 ** (bits - 127)));
export const FLOAT16_VALUES = lookupTable(65536, float16BitsToNumber);
