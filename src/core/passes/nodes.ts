import { toLong } from '../onnx/int64';
import { onnx } from '../proto';

const A = onnx.AttributeProto.AttributeType;
const T = onnx.TensorProto.DataType;

/** Mul and Add broadcast like numpy from opset 7; before that only with broadcast=1. */
const NUMPY_BROADCAST_OPSET = 7;
/** Cast's `to` is an int from opset 6; before that a type name. */
const CAST_INT_TO_OPSET = 6;

export const attribute = {
  int: (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i: toLong(i) }),
  ints: (name: string, ints: readonly number[]): onnx.IAttributeProto => ({ name, type: A.INTS, ints: ints.map(toLong) }),
  string: (name: string, s: string): onnx.IAttributeProto => ({ name, type: A.STRING, s: new TextEncoder().encode(s) }),
  tensor: (name: string, t: onnx.ITensorProto): onnx.IAttributeProto => ({ name, type: A.TENSOR, t }),
  sparseTensor: (name: string, sparseTensor: onnx.ISparseTensorProto): onnx.IAttributeProto => ({ name, type: A.SPARSE_TENSOR, sparseTensor }),
};

export function makeNode(
  opType: string, inputs: readonly string[], outputs: readonly string[], name: string, attributes: onnx.IAttributeProto[] = [], domain = '',
): onnx.NodeProto {
  return onnx.NodeProto.create({ opType, input: [...inputs], output: [...outputs], name, attribute: attributes, ...(domain ? { domain } : {}) });
}

/** A Constant node whose output is the tensor's name. */
export function constantNode(tensor: onnx.ITensorProto, nodeName: string): onnx.NodeProto {
  return makeNode('Constant', [], [tensor.name ?? ''], nodeName, [attribute.tensor('value', { ...tensor, name: '' })]);
}

export function castToFloat(input: string, output: string, name: string, opset: number): onnx.NodeProto {
  const to = opset >= CAST_INT_TO_OPSET ? attribute.int('to', T.FLOAT) : attribute.string('to', 'FLOAT');
  return makeNode('Cast', [input], [output], name, [to]);
}

/**
 * An elementwise Mul or Add by a constant. From opset 7 the constant is shaped
 * to broadcast (`numpyShaped`); before, it is 1-D along `axis` with broadcast=1.
 */
export function broadcastBinary(
  opType: 'Mul' | 'Add', inputs: [string, string], output: string, name: string, opset: number, axis: number,
): onnx.NodeProto {
  const legacy = opset < NUMPY_BROADCAST_OPSET ? [attribute.int('broadcast', 1), attribute.int('axis', axis)] : [];
  return makeNode(opType, inputs, [output], name, legacy);
}

/** The shape a per-channel constant takes to broadcast along `axis` of a tensor of `rank`: 1-D before opset 7. */
export function channelConstantDims(channels: number, axis: number, rank: number, opset: number): number[] {
  if (opset < NUMPY_BROADCAST_OPSET) return [channels];
  return Array.from({ length: rank }, (_, index) => (index === axis ? channels : 1));
}

export function intAttribute(node: onnx.INodeProto, name: string, fallback: number): number {
  const found = node.attribute?.find((a) => a.name === name);
  if (!found || found.i === undefined || found.i === null) return fallback;
  return typeof found.i === 'number' ? found.i : found.i.toNumber();
}

export function floatAttribute(node: onnx.INodeProto, name: string, fallback: number): number {
  const found = node.attribute?.find((a) => a.name === name);
  return found && found.f !== undefined && found.f !== null ? found.f : fallback;
}
