import { TensorDataError, quote } from '../errors';
import { WeightInfo } from '../model/weights';
import { toLong } from '../onnx/int64';
import { onnx } from '../proto';

const T = onnx.TensorProto.DataType;

export function tensorFromBytes(name: string, dataType: number, dims: readonly number[], rawData: Uint8Array): onnx.TensorProto {
  return onnx.TensorProto.create({ name, dataType, dims: dims.map(toLong), rawData });
}

const bytesOf = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

export const tensors = {
  float32: (name: string, dims: readonly number[], values: Float32Array) => tensorFromBytes(name, T.FLOAT, dims, bytesOf(values)),
  float16: (name: string, dims: readonly number[], bits: Uint16Array) => tensorFromBytes(name, T.FLOAT16, dims, bytesOf(bits)),
  int8: (name: string, dims: readonly number[], values: Int8Array) => tensorFromBytes(name, T.INT8, dims, bytesOf(values)),
  uint8: (name: string, dims: readonly number[], values: Uint8Array) => tensorFromBytes(name, T.UINT8, dims, values),
  int64: (name: string, dims: readonly number[], values: readonly number[]) =>
    tensorFromBytes(name, T.INT64, dims, bytesOf(BigInt64Array.from(values, (value) => BigInt(value)))),
};

/** The weight's bytes as stored: values, plus indices for a sparse weight. */
export function storedBytes(weight: WeightInfo): number {
  return weight.tensor.byteLength + (weight.sparse?.indices.byteLength ?? 0);
}

/** The weight's dense values as float32 (sparse weights are expanded; the result may be a view of the file). */
export async function denseFloats(weight: WeightInfo): Promise<Float32Array> {
  const values = await weight.tensor.floats();
  const floats = values instanceof Float32Array ? values : Float32Array.from(values);
  if (!weight.sparse) return floats;
  const dense = new Float32Array(weight.elementCount);
  const indices = await weight.sparse.indices.values();
  const linear = linearIndices(weight, indices as BigInt64Array | Int32Array, floats.length);
  for (let i = 0; i < linear.length; i++) dense[linear[i]] = floats[i];
  return dense;
}

/** Sparse indices are [NNZ] linear positions or [NNZ, rank] coordinates. */
function linearIndices(weight: WeightInfo, indices: ArrayLike<number | bigint>, count: number): number[] {
  const rank = weight.dims.length;
  const coordinates = weight.sparse!.indices.dims.length === 2;
  const linear: number[] = [];
  for (let i = 0; i < count; i++) {
    let position = 0;
    if (coordinates) for (let axis = 0; axis < rank; axis++) position = position * weight.dims[axis] + Number(indices[i * rank + axis]);
    else position = Number(indices[i]);
    if (!(position >= 0 && position < weight.elementCount)) {
      throw new TensorDataError(`Sparse tensor ${quote(weight.name)} has an index outside its shape [${weight.dims.join(',')}].`, weight.name);
    }
    linear.push(position);
  }
  return linear;
}
