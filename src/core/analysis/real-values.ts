/**
 * Turns a task's raw tensors into the real values the analysis looks at:
 * decoded to floats, sparse weights made dense, quantized weights mapped
 * through their DequantizeLinear, (q − zeroPoint) · scale.
 */
import { TensorDataError, quote } from '../errors';
import { toLong } from '../onnx/int64';
import { onnx } from '../proto';
import { axisLayout, FloatArray } from '../quant/quantize-math';
import { TensorView } from '../tensor/tensor-view';
import { AnalysisTask, TensorPayload } from './analysis-protocol';

/** The most elements a sparse weight's dense form may have: it is allocated whole to analyze it (1 GiB as float32). */
export const MAX_DENSE_ELEMENTS = 2 ** 28;

export interface RealValues {
  readonly values: FloatArray;
  /** Passes over the data before the analysis: decoding copies, densifying, dequantizing. */
  readonly passes: number;
}

export async function realValuesOf(task: AnalysisTask): Promise<RealValues> {
  const decoded = isMisalignedFloat32(task.tensor) ? alignedCopy(task.tensor.bytes) : await viewOf(task.tensor).floats();
  let values: FloatArray = decoded;
  let passes = (task.tensor.copied ? 1 : 0) + (decoded.buffer === task.tensor.bytes.buffer ? 0 : 1);
  if (task.sparse) {
    values = await densify(task.tensor.name, values, task.sparse.dims, task.sparse.indices);
    passes++;
  }
  if (task.dequantization) {
    values = await dequantize(task, values);
    passes++;
  }
  return { values, passes };
}

function isMisalignedFloat32(payload: TensorPayload): boolean {
  return payload.dataType === onnx.TensorProto.DataType.FLOAT && payload.bytes.byteOffset % Float32Array.BYTES_PER_ELEMENT !== 0;
}

let scratch = new Float32Array(0);

/**
 * float32 bytes that cannot be viewed in place, copied into memory this worker
 * reuses from tensor to tensor: a fresh buffer per tensor costs a page fault
 * per 4 KiB, which made the copy slower than an analysis pass. The values are
 * valid until the next task.
 */
function alignedCopy(bytes: Uint8Array): Float32Array {
  const count = bytes.length / Float32Array.BYTES_PER_ELEMENT;
  if (scratch.length < count) scratch = new Float32Array(count);
  const values = scratch.subarray(0, count);
  new Uint8Array(values.buffer, 0, bytes.length).set(bytes);
  return values;
}

function viewOf(payload: TensorPayload): TensorView {
  return new TensorView({ name: payload.name, dataType: payload.dataType, dims: payload.dims.map(toLong), rawData: payload.bytes });
}

/** Sparse values placed at their indices: linear [nnz] or coordinates [nnz, rank]. */
async function densify(name: string, values: FloatArray, dims: readonly number[], indicesPayload: TensorPayload): Promise<FloatArray> {
  const count = denseElementCount(name, dims);
  const dense = values instanceof Float64Array ? new Float64Array(count) : new Float32Array(count);
  const indices = Array.from(await viewOf(indicesPayload).values() as ArrayLike<number | bigint>, Number);
  const perValue = indicesPayload.dims.length === 2 ? dims.length : 1;
  const strides = dims.map((_, axis) => dims.slice(axis + 1).reduce((a, b) => a * b, 1));
  for (let j = 0; j < values.length; j++) {
    const index = perValue === 1 ? indices[j] : strides.reduce((sum, stride, axis) => sum + stride * indices[j * perValue + axis], 0);
    if (!(index >= 0 && index < count)) {
      throw new TensorDataError(`Sparse weight ${quote(name)} has value ${j} at index ${index}, outside its ${count} elements.`, name);
    }
    dense[index] = values[j];
  }
  return dense;
}

/** The element count of a sparse weight's dense shape, refused when the shape is no size or too large to allocate. */
function denseElementCount(name: string, dims: readonly number[]): number {
  if (dims.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) {
    throw new TensorDataError(`Sparse weight ${quote(name)} declares dense shape [${dims.join(',')}], which is not a valid shape.`, name);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MAX_DENSE_ELEMENTS) {
    throw new TensorDataError(
      `Sparse weight ${quote(name)} declares dense shape [${dims.join(',')}], ${count} elements, more than the ${MAX_DENSE_ELEMENTS} its analysis can hold.`, name);
  }
  return count;
}

/** DequantizeLinear's arithmetic in float32: per tensor, per axis, or per block along the axis. */
async function dequantize(task: AnalysisTask, quantized: FloatArray): Promise<Float32Array> {
  const { scale, zeroPoint, axis, blockSize, node } = task.dequantization!;
  const scales = await viewOf(scale).floats();
  const zeroPoints = zeroPoint ? await viewOf(zeroPoint).floats() : new Float32Array(scales.length);
  const dims = task.sparse?.dims ?? task.tensor.dims;
  const groupOf = groupIndexer(task.tensor.name, node, dims, scales.length, axis, blockSize);
  if (zeroPoints.length !== scales.length) {
    throw new TensorDataError(`DequantizeLinear ${quote(node)} has ${scales.length} scales but ${zeroPoints.length} zero points for ${quote(task.tensor.name)}.`, task.tensor.name);
  }
  // Integer weights decode into a fresh array, which can take the real values in place.
  const out = quantized instanceof Float32Array && quantized.buffer !== task.tensor.bytes.buffer ? quantized : new Float32Array(quantized.length);
  for (let index = 0; index < quantized.length; index++) {
    const group = groupOf(index);
    out[index] = (quantized[index] - zeroPoints[group]) * scales[group];
  }
  return out;
}

/** Maps an element's index to its scale's index; checks the scale count against the layout first. */
function groupIndexer(
  name: string, node: string, dims: readonly number[], scaleCount: number, axis: number, blockSize: number,
): (index: number) => number {
  if (scaleCount === 1) return () => 0;
  if (axis < -dims.length || axis >= dims.length) {
    throw new TensorDataError(`DequantizeLinear ${quote(node)} has axis ${axis}, outside ${quote(name)} [${dims.join(',')}].`, name);
  }
  const { outer, size, inner } = axisLayout(dims, axis);
  const expected = blockSize > 0 ? outer * Math.ceil(size / blockSize) * inner : size;
  if (scaleCount !== expected) {
    throw new TensorDataError(
      `DequantizeLinear ${quote(node)} has ${scaleCount} scales for ${quote(name)} [${dims.join(',')}], but axis ${axis}${blockSize > 0 ? ` in blocks of ${blockSize}` : ''} needs ${expected}.`,
      name);
  }
  if (blockSize === 0) return (index) => Math.floor(index / inner) % size;
  const blocks = Math.ceil(size / blockSize);
  return (index) => {
    const within = index % inner;
    const along = Math.floor(index / inner) % size;
    const row = Math.floor(index / (inner * size));
    return (row * blocks + Math.floor(along / blockSize)) * inner + within;
  };
}
