/**
 * Structured channel pruning: removes whole output channels of a Conv, Gemm or
 * MatMul (lowest L2 norm first) together with everything that is indexed by
 * those channels downstream (bias, BatchNormalization entries, per-channel
 * constants of Add/Mul/PRelu) and the matching input channels of the next
 * layers, so the tensors really shrink. Where the channels cannot be followed
 * safely (a residual Add, Concat, Reshape, a grouped Conv, a graph output...)
 * the layer is refused with the reason.
 */
import { OnnxModel } from '../model/onnx-model';
import { InvalidArgumentError, quote } from '../errors';
import { Layer, NodeRef, WeightInfo } from '../model/weights';
import { onnx } from '../proto';
import { axisLayout } from '../quant/quantize-math';
import { intAttribute } from './nodes';
import { refusal, registerSpecialCheck } from './registry';
import { ModelRewriter } from './rewriter';
import { PassRun } from './run';
import { layerId } from './select';
import { denseFloats, tensors } from './tensors';
import { PassOptions, PassResult } from './types';

export interface PruneChannelsOptions extends PassOptions {
  /** Fraction of each selected layer's output channels to remove, from 0 to 1 (at least one channel stays). */
  readonly fraction: number;
}

/** A weight to cut along one axis, indexed by the chain's channels. */
interface Slice {
  readonly weight: WeightInfo;
  readonly axis: number;
  readonly role: string;
}

interface ChannelChain {
  readonly producer: Slice;
  readonly channels: number;
  readonly slices: readonly Slice[];
  /** Values whose channel dimension shrinks (their declared shapes are dropped). */
  readonly values: readonly string[];
}

/** A value on the chain, with its channel axis counted from the end (-1: last axis). */
interface Front {
  readonly value: string;
  readonly axis: number;
  /** All axes after the channel are 1 (after a global pool). */
  readonly spatialOne: boolean;
}

type Dims = (weight: WeightInfo) => readonly number[];

const ELEMENTWISE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Gelu',
  'Mish', 'Identity', 'Dropout', 'Clip', 'Abs', 'Neg', 'Exp', 'Sqrt', 'Erf',
]);
const POOLS = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
const BROADCAST_BINARY = new Set(['Add', 'Sub', 'Mul', 'Div']);
const BATCH_NORM_PARAMETERS = ['scale', 'B', 'mean', 'var'];

const producerCheck = (layer: Layer, _targets: unknown, rewriter: ModelRewriter): string | undefined => {
  const chain = followChannels(rewriter, layer, (weight) => weight.dims);
  return typeof chain === 'string' ? chain : undefined;
};
for (const opType of ['Conv', 'Gemm', 'MatMul']) registerSpecialCheck('prune-channels', opType, producerCheck);

/**
 * Removes `fraction` of the output channels of each selected Conv, Gemm and
 * MatMul layer and of everything that follows them, one chain after another.
 */
export async function pruneChannels(model: OnnxModel, options: PruneChannelsOptions): Promise<PassResult> {
  if (!(options.fraction > 0 && options.fraction < 1)) throw new InvalidArgumentError(`fraction must be between 0 and 1 (exclusive), not ${options.fraction}.`);
  const run = new PassRun('prune-channels', model, options);
  const current = new Map<WeightInfo, { values: Float32Array; dims: readonly number[] }>();
  const dimsOf: Dims = (weight) => current.get(weight)?.dims ?? weight.dims;
  const valuesOf = async (weight: WeightInfo) => current.get(weight) ?? { values: await denseFloats(weight), dims: weight.dims };
  for (const planned of run.layers) {
    const chain = followChannels(run.rewriter, planned.layer, dimsOf);
    if (typeof chain === 'string') {
      run.skip(planned, refusal(planned.layer, chain));
      continue;
    }
    const removeCount = Math.min(Math.floor(options.fraction * chain.channels), chain.channels - 1);
    if (removeCount === 0) {
      run.skip(planned, refusal(planned.layer, `has ${chain.channels} channels, too few to remove ${options.fraction * 100}% of them`));
      continue;
    }
    const producer = await valuesOf(chain.producer.weight);
    const keep = channelsToKeep(channelNorms(producer.values, producer.dims, chain.producer.axis), removeCount);
    for (const slice of chain.slices) current.set(slice.weight, sliceAxis(await valuesOf(slice.weight), slice.axis, keep));
    for (const value of chain.values) run.rewriter.dropValueInfo(value);
    run.notes.push(`${layerId(planned.layer.node)}: ${chain.channels} -> ${keep.length} channels; cut ${chain.slices.map((slice) => slice.role).join(', ')}.`);
    run.step(run.layers.length);
  }
  for (const [weight, { values, dims }] of current) {
    const tensor = tensors.float32(weight.name, dims, values);
    run.rewriter.replaceWeightTensor(weight, tensor);
    run.record(weight, {
      after: { dataType: 'float32', dims }, replacement: [tensor], sqnrDb: null,
      scheme: `channel pruning: [${weight.dims.join(',')}] -> [${dims.join(',')}]`,
    });
  }
  return run.finish();
}

/** Follows a producer's output channels to the next layers, or says why they cannot be followed (a sentence fragment). */
export function followChannels(rewriter: ModelRewriter, layer: Layer, dimsOf: Dims): ChannelChain | string {
  const node = layer.node;
  const weightAt = (ref: NodeRef, slot: number) => rewriter.layerOf(ref.proto)?.weights.find((w) => w.inputIndex === slot && !w.viaDequantize)?.weight;
  const start = producerSlices(node, weightAt, dimsOf);
  if (typeof start === 'string') return start;
  const channels = dimsOf(start.slices[0].weight)[start.slices[0].axis];
  const slices = [...start.slices];
  const chainNodes = new Set<onnx.INodeProto>([node.proto]);
  const values: string[] = [];
  const queue: Front[] = [{ value: node.proto.output![0], axis: start.outputAxis, spatialOne: false }];
  while (queue.length > 0) {
    const front = queue.shift()!;
    values.push(front.value);
    if (rewriter.isGraphOutput(front.value)) return `feeds the graph output ${quote(front.value)}, whose shape would change`;
    if (rewriter.readInSubgraph(node.scope, front.value)) return `feeds ${quote(front.value)} into a subgraph, where its channels cannot be followed`;
    for (const reader of rewriter.readersOf(node.scope, front.value)) {
      chainNodes.add(reader.node.proto);
      const step = stepThrough(reader.node, reader.slot, front, weightAt, dimsOf);
      if (typeof step === 'string') return `reaches ${reader.node.opType} ${quote(reader.node.label)}, ${step}`;
      slices.push(...step.slices);
      queue.push(...step.next);
    }
  }
  const problem = sliceProblem(slices, chainNodes, channels, dimsOf);
  return problem ?? { producer: slices[0], channels, slices, values };
}

type WeightAt = (node: NodeRef, slot: number) => WeightInfo | undefined;

function producerSlices(node: NodeRef, weightAt: WeightAt, dimsOf: Dims): { slices: Slice[]; outputAxis: number } | string {
  const weight = weightAt(node, 1);
  if (!weight) return 'has no constant weight';
  const rank = dimsOf(weight).length;
  const bias = (node.proto.input ?? [])[2] ? weightAt(node, 2) : undefined;
  if ((node.proto.input ?? [])[2] && !bias) return 'has a bias computed at run time';
  switch (node.opType) {
    case 'Conv':
      if (intAttribute(node.proto, 'group', 1) !== 1) return 'is a grouped Conv, whose channels are tied to its groups';
      return { slices: [{ weight, axis: 0, role: 'output channels' }, ...biasSlice(bias, dimsOf)], outputAxis: -(rank - 1) };
    case 'Gemm':
      if (intAttribute(node.proto, 'transA', 0)) return 'has transA=1';
      return { slices: [{ weight, axis: intAttribute(node.proto, 'transB', 0) ? 0 : 1, role: 'output channels' }, ...biasSlice(bias, dimsOf)], outputAxis: -1 };
    default:
      if (rank !== 2) return `has a ${rank}-D weight`;
      return { slices: [{ weight, axis: 1, role: 'output channels' }], outputAxis: -1 };
  }
}

/** A bias of one value per channel is cut with them; a bias broadcast over channels is left as it is. */
function biasSlice(bias: WeightInfo | undefined, dimsOf: Dims): Slice[] {
  if (!bias) return [];
  const dims = dimsOf(bias);
  return dims.length > 0 && dims[dims.length - 1] > 1 ? [{ weight: bias, axis: dims.length - 1, role: `bias ${quote(bias.name)}` }] : [];
}

function stepThrough(
  reader: NodeRef, slot: number, front: Front, weightAt: WeightAt, dimsOf: Dims,
): { slices: Slice[]; next: Front[] } | string {
  const { opType, proto } = reader;
  const outputs = (proto.output ?? []).filter(Boolean);
  const onward = (spatialOne = front.spatialOne, axis = front.axis) => [{ value: outputs[0], axis, spatialOne }];
  if (reader.domain) return 'an operator from another domain';
  if ((ELEMENTWISE.has(opType) || POOLS.has(opType) || GLOBAL_POOLS.has(opType) || opType === 'BatchNormalization') && outputs.length > 1) {
    return 'which has a second output whose layout is not followed';
  }
  if (opType === 'PRelu' || BROADCAST_BINARY.has(opType)) {
    if (opType === 'PRelu' && slot !== 0) return 'which reads the chain as its slope';
    const other = weightAt(reader, 1 - slot);
    if (!other) return opType === 'Add' ? 'whose other input is computed (a residual connection)' : 'whose other input is computed, so both sides would need the same channels';
    return { slices: broadcastSlice(other, front.axis, dimsOf, `${opType} ${quote(reader.label)} constant`), next: onward() };
  }
  if (slot !== 0) return 'which reads the chain as a parameter';
  if (ELEMENTWISE.has(opType) || POOLS.has(opType)) return { slices: [], next: onward() };
  if (GLOBAL_POOLS.has(opType)) return { slices: [], next: onward(true) };
  if (opType === 'Flatten') {
    if (!front.spatialOne || intAttribute(proto, 'axis', 1) !== 1) return 'which merges channels with spatial positions (a different layout)';
    return { slices: [], next: onward(true, -1) };
  }
  if (opType === 'BatchNormalization') return batchNormSlices(reader, weightAt, onward());
  return endSlices(reader, front, weightAt, dimsOf);
}

function broadcastSlice(weight: WeightInfo, axisFromEnd: number, dimsOf: Dims, role: string): Slice[] {
  const dims = dimsOf(weight);
  const axis = dims.length + axisFromEnd;
  // A constant without that axis, or with size 1 there, is broadcast over the channels.
  if (axis < 0 || dims[axis] === 1) return [];
  return [{ weight, axis, role }];
}

function batchNormSlices(reader: NodeRef, weightAt: WeightAt, next: Front[]): { slices: Slice[]; next: Front[] } | string {
  const slices: Slice[] = [];
  for (const [index, parameter] of BATCH_NORM_PARAMETERS.entries()) {
    const weight = weightAt(reader, index + 1);
    if (!weight) return `whose ${parameter} is computed at run time`;
    slices.push({ weight, axis: 0, role: `BatchNormalization ${quote(reader.label)} ${parameter}` });
  }
  return { slices, next };
}

/** The next layer: its weight loses the matching input channels, and the chain ends there. */
function endSlices(reader: NodeRef, front: Front, weightAt: WeightAt, dimsOf: Dims): { slices: Slice[]; next: Front[] } | string {
  const { opType, proto } = reader;
  const weight = ['Conv', 'Gemm', 'MatMul'].includes(opType) ? weightAt(reader, 1) : undefined;
  if (!weight) return ['Conv', 'Gemm', 'MatMul'].includes(opType) ? 'whose weight is computed at run time' : 'which ONNX Lens cannot follow channels through';
  const rank = dimsOf(weight).length;
  const role = `input channels of ${opType} ${quote(reader.label)}`;
  if (opType === 'Conv') {
    if (intAttribute(proto, 'group', 1) !== 1) return 'a grouped Conv, whose groups would no longer line up';
    if (front.axis !== -(rank - 1)) return 'which reads the channels on another axis';
    return { slices: [{ weight, axis: 1, role }], next: [] };
  }
  if (front.axis !== -1 || rank !== 2) return 'which reads the channels on another axis';
  if (opType === 'Gemm') {
    if (intAttribute(proto, 'transA', 0)) return 'which has transA=1';
    return { slices: [{ weight, axis: intAttribute(proto, 'transB', 0) ? 1 : 0, role }], next: [] };
  }
  return { slices: [{ weight, axis: 0, role }], next: [] };
}

/** Every cut weight must be read only inside the chain and have the chain's channel count on its axis. */
function sliceProblem(slices: readonly Slice[], chainNodes: ReadonlySet<onnx.INodeProto>, channels: number, dimsOf: Dims): string | undefined {
  const axes = new Map<WeightInfo, number>();
  for (const { weight, axis } of slices) {
    if (axes.has(weight) && axes.get(weight) !== axis) return `would cut weight ${quote(weight.name)} along two axes`;
    axes.set(weight, axis);
    if (dimsOf(weight)[axis] !== channels) return `would cut weight ${quote(weight.name)}, whose axis ${axis} has ${dimsOf(weight)[axis]} entries, not ${channels}`;
    const outside = weight.uses.find((use) => !chainNodes.has(use.node.proto));
    if (outside) return `shares weight ${quote(weight.name)} with ${outside.node.opType} ${quote(outside.node.label)} outside the chain`;
  }
  return undefined;
}

/** L2 norm of each index along `axis`. */
function channelNorms(values: Float32Array, dims: readonly number[], axis: number): Float64Array {
  const { outer, size, inner } = axisLayout(dims, axis);
  const norms = new Float64Array(size);
  let index = 0;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < size; a++) {
      for (let i = 0; i < inner; i++, index++) norms[a] += values[index] * values[index];
    }
  }
  return norms.map(Math.sqrt);
}

/** The channels left after removing `removeCount` of lowest norm (the earlier on ties), in order. */
function channelsToKeep(norms: Float64Array, removeCount: number): number[] {
  const ranked = Array.from(norms.keys()).sort((a, b) => norms[a] - norms[b] || a - b);
  const removed = new Set(ranked.slice(0, removeCount));
  return Array.from(norms.keys()).filter((channel) => !removed.has(channel));
}

function sliceAxis(tensor: { values: Float32Array; dims: readonly number[] }, axis: number, keep: readonly number[]): { values: Float32Array; dims: number[] } {
  const { outer, size, inner } = axisLayout(tensor.dims, axis);
  const out = new Float32Array(outer * keep.length * inner);
  let index = 0;
  for (let o = 0; o < outer; o++) {
    for (const channel of keep) {
      const from = (o * size + channel) * inner;
      out.set(tensor.values.subarray(from, from + inner), index);
      index += inner;
    }
  }
  return { values: out, dims: tensor.dims.map((dim, position) => (position === axis ? keep.length : dim)) };
}
