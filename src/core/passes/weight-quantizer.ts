import { WeightInfo } from '../model/weights';
import { axisLayout, dequantize, quantizePerChannel, sqnrDb, sqnrDbOfEnergies } from '../quant/quantize-math';
import { quantizeRawInt8PerTensor, RawInt8Result } from './int8-kernel';
import { quote } from '../errors';
import { SkipWeight } from './run';
import { denseFloats } from './tensors';

export interface QuantizedWeight {
  /** int8 values in the weight's layout (or transposed, when asked for). */
  readonly values: Int8Array;
  readonly dims: readonly number[];
  readonly scales: Float32Array;
  readonly sqnrDb: number;
}

/**
 * Symmetric int8 per-tensor in two streaming passes (max |w|, then quantize
 * while summing the error), without copying the weight: the fast path for
 * whole-model quantization. Same integers as quantizePerTensor. `computed`
 * is the result a worker thread already produced for it, if any.
 */
export async function quantizeInt8PerTensor(weight: WeightInfo, computed?: RawInt8Result): Promise<QuantizedWeight> {
  const { values, scale, sums } = computed ?? quantizeRawInt8PerTensor(await float32Bytes(weight));
  if (!Number.isFinite(scale)) throw nonFinite(weight);
  return { values, dims: weight.dims, scales: Float32Array.of(scale), sqnrDb: sqnrDbOfEnergies(sums.signal, sums.noise) };
}

/** The weight's values as raw float32 bytes: the stored bytes where they are, otherwise decoded. */
async function float32Bytes(weight: WeightInfo): Promise<Uint8Array> {
  if (weight.tensor.storage === 'raw' && !weight.sparse) return weight.tensor.rawBytes();
  const floats = await denseFloats(weight);
  return new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
}

/** Symmetric int8 with one scale per index along `axis`. */
export async function quantizeInt8PerChannel(weight: WeightInfo, axis: number): Promise<QuantizedWeight> {
  const floats = await denseFloats(weight);
  const quantized = quantizePerChannel(floats, weight.dims, axis);
  if (!quantized.scales.every(Number.isFinite)) throw nonFinite(weight);
  return { ...quantized, dims: weight.dims, sqnrDb: sqnrDb(floats, dequantize(quantized, weight.dims, { axis })) };
}

export interface EqualizedWeight extends QuantizedWeight {
  /** One factor per input channel, multiplied back after dequantizing. */
  readonly inputScales: Float32Array;
}

/**
 * Per-channel int8 after input-channel equalization: each input channel is
 * divided by √(its max |w|) before the output-channel scales are chosen, and
 * multiplied back in the graph. Input channels of very different ranges (the
 * bins of a spectrum, say) then keep their resolution.
 */
export async function quantizeInt8Equalized(weight: WeightInfo, outputAxis: number, inputAxis: number): Promise<EqualizedWeight> {
  const floats = await denseFloats(weight);
  const inputScales = inputChannelScales(floats, weight.dims, inputAxis);
  const equalized = mapAlongAxis(floats, weight.dims, inputAxis, (value, channel) => value / inputScales[channel]);
  const quantized = quantizePerChannel(equalized, weight.dims, outputAxis);
  if (!quantized.scales.every(Number.isFinite)) throw nonFinite(weight);
  const restored = mapAlongAxis(dequantize(quantized, weight.dims, { axis: outputAxis }), weight.dims, inputAxis, (value, channel) => Math.fround(value * inputScales[channel]));
  return { ...quantized, dims: weight.dims, inputScales, sqnrDb: sqnrDb(floats, restored) };
}

export function isEqualized(quantized: QuantizedWeight): quantized is EqualizedWeight {
  return 'inputScales' in quantized;
}

function inputChannelScales(values: Float32Array, dims: readonly number[], axis: number): Float32Array {
  const max = new Float32Array(dims[axis]);
  mapAlongAxis(values, dims, axis, (value, channel) => {
    max[channel] = Math.max(max[channel], Math.abs(value));
    return value;
  });
  return max.map((m) => (m > 0 && Number.isFinite(m) ? Math.fround(Math.sqrt(m)) : 1));
}

function mapAlongAxis(values: Float32Array, dims: readonly number[], axis: number, map: (value: number, channel: number) => number): Float32Array {
  const { outer, size, inner } = axisLayout(dims, axis);
  const out = new Float32Array(values.length);
  let index = 0;
  for (let o = 0; o < outer; o++) {
    for (let channel = 0; channel < size; channel++) {
      for (let i = 0; i < inner; i++, index++) out[index] = map(values[index], channel);
    }
  }
  return out;
}

/** A 2-D int8 matrix [rows, columns] as [columns, rows]. */
export function transposeInt8<W extends QuantizedWeight>(quantized: W): W {
  const [rows, columns] = quantized.dims;
  const out = new Int8Array(quantized.values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) out[c * rows + r] = quantized.values[r * columns + c];
  }
  return { ...quantized, values: out, dims: [columns, rows] };
}

function nonFinite(weight: WeightInfo): SkipWeight {
  return new SkipWeight(`Weight ${quote(weight.name)} holds infinite or NaN values, which int8 cannot represent.`);
}
