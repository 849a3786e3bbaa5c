/**
 * A tiny writer over the project's own schema, for models the tests build
 * themselves. Values go into raw_data unless a test asks for a typed field.
 */
import { onnx } from '../../src/core';
import { toLong } from '../../src/core/onnx/int64';
import { seededRandom } from '../../src/core/runtime/random';

const A = onnx.AttributeProto.AttributeType;
export const DataType = onnx.TensorProto.DataType;

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnx.TensorProto {
  const data = Float32Array.from(values);
  return rawTensor(name, DataType.FLOAT, dims, new Uint8Array(data.buffer));
}

export function rawTensor(name: string, dataType: number, dims: number[], rawData: Uint8Array): onnx.TensorProto {
  return onnx.TensorProto.create({ name, dataType, dims: dims.map(toLong), rawData });
}

export function int64Tensor(name: string, dims: number[], values: number[]): onnx.TensorProto {
  return onnx.TensorProto.create({ name, dataType: DataType.INT64, dims: dims.map(toLong), int64Data: values.map(toLong) });
}

export function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: toLong(d) } : { dimParam: d }));
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim } } } });
}

export type Attribute = onnx.IAttributeProto;
export const attr = {
  int: (name: string, i: number): Attribute => ({ name, type: A.INT, i: toLong(i) }),
  ints: (name: string, ints: number[]): Attribute => ({ name, type: A.INTS, ints: ints.map(toLong) }),
  float: (name: string, f: number): Attribute => ({ name, type: A.FLOAT, f }),
  floats: (name: string, floats: number[]): Attribute => ({ name, type: A.FLOATS, floats }),
  string: (name: string, s: string): Attribute => ({ name, type: A.STRING, s: new TextEncoder().encode(s) }),
  tensor: (name: string, t: onnx.ITensorProto): Attribute => ({ name, type: A.TENSOR, t }),
  sparseTensor: (name: string, sparseTensor: onnx.ISparseTensorProto): Attribute => ({ name, type: A.SPARSE_TENSOR, sparseTensor }),
  graph: (name: string, g: onnx.IGraphProto): Attribute => ({ name, type: A.GRAPH, g }),
};

export function node(opType: string, inputs: string[], outputs: string[], attributes: Attribute[] = [], name = '', domain?: string): onnx.NodeProto {
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, attribute: attributes, name, ...(domain ? { domain } : {}) });
}

export function constantNode(output: string, value: Attribute): onnx.NodeProto {
  return node('Constant', [], [output], [value], `${output}_node`);
}

export interface GraphParts {
  name?: string;
  nodes: onnx.INodeProto[];
  inputs?: onnx.IValueInfoProto[];
  outputs?: onnx.IValueInfoProto[];
  initializers?: onnx.ITensorProto[];
  sparseInitializers?: onnx.ISparseTensorProto[];
}

export function graph(parts: GraphParts): onnx.GraphProto {
  return onnx.GraphProto.create({
    name: parts.name ?? 'g', node: parts.nodes, input: parts.inputs ?? [], output: parts.outputs ?? [],
    initializer: parts.initializers ?? [], sparseInitializer: parts.sparseInitializers ?? [],
  });
}

export function model(g: onnx.IGraphProto, options: { opset?: number; irVersion?: number; functions?: onnx.IFunctionProto[]; extraOpsets?: { domain: string; version: number }[] } = {}): onnx.ModelProto {
  const opsets = [{ domain: '', version: options.opset ?? 17 }, ...(options.extraOpsets ?? [])];
  return onnx.ModelProto.create({
    irVersion: toLong(options.irVersion ?? 8),
    producerName: 'onnx-lens-tests',
    opsetImport: opsets.map((o) => ({ domain: o.domain, version: toLong(o.version) })),
    graph: g,
    functions: options.functions ?? [],
  });
}

export function encode(m: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}

/** Deterministic pseudo-random floats in [-scale, scale). */
export function randomFloats(count: number, seed: number, scale = 1): Float32Array {
  const next = seededRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}
