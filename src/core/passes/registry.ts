/**
 * Which pass applies to which layer, found by the layer's op type. Each op type
 * says where its weights sit and which output-channel axis they have; a pass
 * that cannot apply says why in one sentence naming the node.
 */
import { quote } from '../errors';
import { Layer, WeightInfo } from '../model/weights';
import { onnx } from '../proto';
import { intAttribute } from './nodes';
import { ModelRewriter } from './rewriter';
import { PassName } from './types';

const T = onnx.TensorProto.DataType;

/** A weight a pass will change, the input slot it feeds and the axis of its output channels. */
export interface WeightTarget {
  readonly weight: WeightInfo;
  readonly slot: number;
  readonly channelAxis: number;
  /** The axis of the input channels it sums over, where the op has one (not for Gather or unknown ops). */
  readonly inputAxis?: number;
}

export type Applicability =
  | { readonly applies: true; readonly targets: readonly WeightTarget[] }
  | { readonly applies: false; readonly reason: string };

type SlotRule = (node: onnx.INodeProto, rank: number) => number;

interface OpSpec {
  /** Input slots of the main weights, each with its output-channel axis. */
  readonly weights: readonly { readonly slot: number; readonly axis: SlotRule; readonly inputAxis?: SlotRule }[];
  /** Bias slots: converted to float16 with the weights, left alone by the integer passes. */
  readonly biases: readonly number[];
  /** Checks for passes only some op types support; a pass absent here does not apply. */
  readonly special: Partial<Record<PassName, (layer: Layer, targets: readonly WeightTarget[], rewriter: ModelRewriter) => string | undefined>>;
}

/** Passes that only store a weight differently, valid whatever consumes it. */
const STORAGE_PASSES: ReadonlySet<PassName> = new Set(['int8', 'float16', 'prune-magnitude', 'sparse-storage']);

/** Weights of ops this registry does not know are changed only from this size on: smaller float inputs are parameters, not weights. */
const MIN_UNKNOWN_OP_WEIGHT_ELEMENTS = 1024;
/** Ops whose float inputs are exact parameters (scales, exponents, bounds) that must not be rounded. */
const EXACT_PARAMETER_OPS = new Set(['Resize', 'Upsample', 'Pad', 'Clip', 'Pow', 'Range', 'ConstantOfShape', 'Reshape', 'Expand', 'Tile']);

/** Below this many values the nodes and tensor headers a pass adds outweigh what it saves. */
const MIN_COMPRESSED_ELEMENTS = 16;

export const PASS_LABELS: Record<PassName, string> = {
  'int8': 'int8 weight-only',
  'dynamic-int8': 'dynamic int8',
  'float16': 'float16',
  'int4': 'int4 block-wise (MatMulNBits)',
  'prune-magnitude': 'magnitude pruning',
  'prune-channels': 'channel pruning',
  'sparse-storage': 'sparse storage',
};

/** DynamicQuantizeLinear, the entry of the dynamic int8 pattern, came with opset 11. */
export const DYNAMIC_QUANTIZE_OPSET = 11;
/** Constant's sparse_value came with opset 11. */
export const SPARSE_CONSTANT_OPSET = 11;

const last: SlotRule = (_node, rank) => rank - 1;
const first: SlotRule = () => 0;
const second: SlotRule = () => 1;
const third: SlotRule = () => 2;

// Filled in by the pass modules (dynamic int8, int4, channel pruning), which own their checks.
const specialChecks: Partial<Record<string, OpSpec['special']>> = {};

const OP_SPECS: Record<string, Omit<OpSpec, 'special'>> = {
  MatMul: { weights: [{ slot: 1, axis: last, inputAxis: (_node, rank) => rank - 2 }], biases: [] },
  Gemm: { weights: [{ slot: 1, axis: (node) => (intAttribute(node, 'transB', 0) ? 0 : 1), inputAxis: (node) => (intAttribute(node, 'transB', 0) ? 1 : 0) }], biases: [2] },
  Conv: { weights: [{ slot: 1, axis: first, inputAxis: second }], biases: [2] },
  ConvTranspose: { weights: [{ slot: 1, axis: second, inputAxis: first }], biases: [2] },
  Gather: { weights: [{ slot: 0, axis: (node) => intAttribute(node, 'axis', 0) }], biases: [] },
  LSTM: { weights: [{ slot: 1, axis: second, inputAxis: third }, { slot: 2, axis: second, inputAxis: third }], biases: [3] },
  GRU: { weights: [{ slot: 1, axis: second, inputAxis: third }, { slot: 2, axis: second, inputAxis: third }], biases: [3] },
  RNN: { weights: [{ slot: 1, axis: second, inputAxis: third }, { slot: 2, axis: second, inputAxis: third }], biases: [3] },
};

/** Lets a pass module register its op-type checks (the registry stays free of their details). */
export function registerSpecialCheck(pass: PassName, opType: string, check: NonNullable<OpSpec['special'][PassName]>): void {
  specialChecks[opType] = { ...specialChecks[opType], [pass]: check };
}

function isKnownOp(layer: Layer): boolean {
  return !layer.node.domain && layer.node.opType in OP_SPECS;
}

/** Whether `pass` applies to `layer`, with the weights it would change, or the reason it does not. */
export function applicability(pass: PassName, layer: Layer, rewriter: ModelRewriter): Applicability {
  const refuse = (text: string): Applicability => ({ applies: false, reason: refusal(layer, text) });
  const special = isKnownOp(layer) ? specialChecks[layer.node.opType]?.[pass] : undefined;
  if (!STORAGE_PASSES.has(pass) && !special) return refuse(`has no ${PASS_LABELS[pass]} form; int8 weight-only, float16 and magnitude pruning apply to its weights`);
  const scopeProblem = rewriter.scopeProblem(layer.node.scope);
  if (scopeProblem) return refuse(`cannot be changed: ${scopeProblem}`);
  const targets = targetsOf(pass, layer);
  if (typeof targets === 'string') return refuse(targets);
  for (const target of targets) {
    const problem = weightProblem(pass, target, rewriter);
    if (problem) return refuse(problem);
  }
  const specialProblem = special?.(layer, targets, rewriter);
  return specialProblem ? refuse(specialProblem) : { applies: true, targets };
}

/** A reason as one sentence naming the node: 'Conv "conv1" <text>.' */
export function refusal(layer: Layer, text: string): string {
  return `${layer.node.opType} ${quote(layer.node.label)} ${text}.`;
}

function targetsOf(pass: PassName, layer: Layer): WeightTarget[] | string {
  const entries = layer.weights.filter((entry) => !entry.viaDequantize);
  const quantized = layer.weights.find((entry) => entry.viaDequantize);
  if (!isKnownOp(layer)) {
    if (EXACT_PARAMETER_OPS.has(layer.node.opType)) return 'takes exact parameters, not weights';
    const large = entries.filter((entry) => entry.weight.elementCount >= MIN_UNKNOWN_OP_WEIGHT_ELEMENTS && isFloat32(entry.weight));
    if (large.length > 0) return large.map((entry) => ({ weight: entry.weight, slot: entry.inputIndex, channelAxis: 0 }));
    return quantized ? alreadyCompressed(quantized.weight) : `has no float32 weight of ${MIN_UNKNOWN_OP_WEIGHT_ELEMENTS} values or more`;
  }
  const spec = OP_SPECS[layer.node.opType];
  const slots: OpSpec['weights'] = pass === 'float16' ? [...spec.weights, ...spec.biases.map((slot) => ({ slot, axis: first }))] : spec.weights;
  const targets: WeightTarget[] = [];
  for (const { slot, axis, inputAxis } of slots) {
    const entry = layer.weights.find((candidate) => candidate.inputIndex === slot);
    if (entry?.viaDequantize) return alreadyCompressed(entry.weight);
    const rank = entry?.weight.dims.length ?? 0;
    if (entry) targets.push({ weight: entry.weight, slot, channelAxis: axis(layer.node.proto, rank), inputAxis: inputAxis?.(layer.node.proto, rank) });
  }
  if (targets.length === 0) return `has no constant weight: input ${spec.weights[0].slot} is computed at run time`;
  return targets;
}

function alreadyCompressed(weight: WeightInfo): string {
  return `reads ${quote(weight.name)}, which is already stored as ${weight.tensor.dataType.name}`;
}

function weightProblem(pass: PassName, target: WeightTarget, rewriter: ModelRewriter): string | undefined {
  const { weight } = target;
  const name = quote(weight.name);
  if (!isFloat32(weight)) return `has weight ${name} of type ${weight.tensor.dataType.name}; passes change float32 weights`;
  if (rewriter.isGraphInput(weight) && rewriter.irVersion >= 4) return `has weight ${name}, which is also a graph input that a feed may replace`;
  const problem = rewriter.scopeProblem(weight.scope);
  if (problem) return `has weight ${name}, which cannot be changed: ${problem}`;
  if (pass === 'sparse-storage' && rewriter.opset(weight.scope) < SPARSE_CONSTANT_OPSET) {
    return `has weight ${name} in a scope at opset ${rewriter.opset(weight.scope)}; sparse storage needs Constant's sparse_value (opset ${SPARSE_CONSTANT_OPSET})`;
  }
  if (pass === 'sparse-storage' && weight.sparse) return `has weight ${name}, which is already stored sparse`;
  if (pass !== 'prune-magnitude' && weight.elementCount < MIN_COMPRESSED_ELEMENTS) return `has weight ${name} of ${weight.elementCount} values, too few to gain from ${PASS_LABELS[pass]}`;
  return undefined;
}

function isFloat32(weight: WeightInfo): boolean {
  return weight.tensor.dataType.code === T.FLOAT;
}
