import { onnx } from '../proto';
import { ExternalDataReader } from '../tensor/external-data';
import { TensorView } from '../tensor/tensor-view';
import { int64ToSafeNumber, toLong } from '../onnx/int64';
import { forEachGraphScope, GraphScope, nodeLabel } from './graph-walk';

const T = onnx.TensorProto.DataType;

export type WeightOrigin = 'initializer' | 'sparse-initializer' | 'constant';

/** A node, located by the scope it sits in and its index there. */
export interface NodeRef {
  readonly scope: string;
  readonly index: number;
  /** The node's name, or "OpType#index" when it has none. */
  readonly label: string;
  readonly opType: string;
  readonly domain: string;
  readonly proto: onnx.INodeProto;
}

export interface WeightUse {
  readonly node: NodeRef;
  readonly inputIndex: number;
}

/**
 * How a weight stored in a compact form is turned back into real values:
 * DequantizeLinear ("linear"), or a Cast from a narrower float type ("cast",
 * whose values are already real).
 */
export interface Dequantization {
  readonly kind: 'linear' | 'cast';
  readonly node: NodeRef;
  readonly scale?: WeightInfo;
  readonly zeroPoint?: WeightInfo;
  readonly axis: number;
  readonly blockSize: number;
  /** The nodes that consume the dequantized output: the layers this weight really belongs to. */
  readonly uses: WeightUse[];
  /** Mul nodes that scale the dequantized values by a constant (input-channel equalization): part of the dequantization, not layers. */
  readonly rescaledBy: NodeRef[];
}

export interface WeightInfo {
  /** Unique in the model: scope path and tensor name. */
  readonly id: string;
  /** The name nodes use to refer to it. */
  readonly name: string;
  readonly origin: WeightOrigin;
  readonly scope: string;
  /** The dense tensor; for a sparse weight, its non-zero values. */
  readonly tensor: TensorView;
  /** Present for sparse weights: the dense shape and the indices tensor. */
  readonly sparse?: { readonly dims: readonly number[]; readonly indices: TensorView };
  /** Dense shape and element count (for a sparse weight, of the tensor it stands for). */
  readonly dims: readonly number[];
  readonly elementCount: number;
  /** The Constant node that produces it, for origin "constant". */
  readonly producer?: NodeRef;
  readonly uses: WeightUse[];
  dequantization?: Dequantization;
}

/** A layer is a node together with the weights it consumes (directly or through DequantizeLinear). */
export interface Layer {
  readonly node: NodeRef;
  readonly weights: { readonly weight: WeightInfo; readonly inputIndex: number; readonly viaDequantize: boolean }[];
}

interface ScopeNames {
  readonly weights: Map<string, WeightInfo>;
  /** Outputs of DequantizeLinear nodes, or of float Casts, whose input is a weight. */
  readonly dequantized: Map<string, WeightInfo>;
  /** Every other name the scope defines; it shadows outer weights of the same name. */
  readonly otherNames: Set<string>;
  readonly parent?: ScopeNames;
}

const QUANTIZE_NODE_TYPES = new Set(['DequantizeLinear', 'QuantizeLinear']);

/**
 * Finds every weight in the model: graph and sparse initializers, Constant
 * nodes, the same inside subgraphs at any depth, in training graphs and in
 * model-local functions. Each weight knows the nodes and input slots that use
 * it, resolved with ONNX's scoping rules (inner names shadow outer ones).
 */
export function discoverWeights(model: onnx.IModelProto, externalReader?: ExternalDataReader): WeightInfo[] {
  const all: WeightInfo[] = [];
  const namesByScope = new Map<GraphScope, ScopeNames>();
  forEachGraphScope(model, (scope) => {
    const names = collectScopeNames(scope, scope.parent && namesByScope.get(scope.parent), externalReader);
    namesByScope.set(scope, names);
    for (const weight of names.weights.values()) all.push(weight);
    resolveUses(scope, names);
  });
  return all;
}

function collectScopeNames(scope: GraphScope, parent: ScopeNames | undefined, externalReader?: ExternalDataReader): ScopeNames {
  const names: ScopeNames = { weights: new Map(), dequantized: new Map(), otherNames: new Set(), parent };
  const addWeight = (weight: Omit<WeightInfo, 'id' | 'scope' | 'uses' | 'dims' | 'elementCount'> & { dims?: readonly number[] }) => {
    const dims = weight.dims ?? weight.tensor.dims;
    names.weights.set(weight.name, {
      ...weight, id: `${scope.path}::${weight.name}`, scope: scope.path, uses: [], dims, elementCount: dims.reduce((a, b) => a * b, 1),
    });
  };
  for (const tensor of scope.graph?.initializer ?? []) {
    addWeight({ name: tensor.name ?? '', origin: 'initializer', tensor: new TensorView(tensor, externalReader) });
  }
  for (const sparse of scope.graph?.sparseInitializer ?? []) {
    addWeight({ name: sparse.values?.name ?? '', origin: 'sparse-initializer', ...sparseParts(sparse, externalReader) });
  }
  scope.nodes.forEach((node, index) => {
    const constant = node.opType === 'Constant' && !node.domain ? constantTensor(node, externalReader) : undefined;
    if (constant) {
      addWeight({ name: node.output?.[0] ?? '', origin: 'constant', producer: nodeRef(scope, node, index), ...constant });
    } else {
      for (const output of node.output ?? []) if (output) names.otherNames.add(output);
    }
  });
  for (const input of scope.graph?.input ?? []) if (input.name && !names.weights.has(input.name)) names.otherNames.add(input.name);
  for (const input of scope.functionInputs ?? []) names.otherNames.add(input);
  return names;
}

function sparseParts(sparse: onnx.ISparseTensorProto, externalReader?: ExternalDataReader) {
  const values = new TensorView(sparse.values ?? {}, externalReader);
  const indices = new TensorView(sparse.indices ?? {}, externalReader);
  const dims = (sparse.dims ?? []).map((dim) => int64ToSafeNumber(dim) ?? 0);
  return { tensor: values, sparse: { dims, indices }, dims };
}

/** The tensor a Constant node produces, from whichever value attribute it carries. */
function constantTensor(node: onnx.INodeProto, externalReader?: ExternalDataReader) {
  const name = node.output?.[0] ?? '';
  const attribute = node.attribute?.find((a) => a.name?.startsWith('value') || a.name === 'sparse_value');
  if (!attribute || attribute.refAttrName) return undefined;
  const scalarOrList = (dataType: number, field: keyof onnx.ITensorProto, values: unknown[], scalar: boolean) =>
    ({ tensor: new TensorView({ name, dataType, dims: scalar ? [] : [toLong(values.length)], [field]: values }) });
  switch (attribute.name) {
    case 'value': return attribute.t ? { tensor: new TensorView({ ...attribute.t, name }, externalReader) } : undefined;
    case 'sparse_value': return attribute.sparseTensor ? sparseParts(attribute.sparseTensor, externalReader) : undefined;
    case 'value_float': return scalarOrList(T.FLOAT, 'floatData', [attribute.f ?? 0], true);
    case 'value_floats': return scalarOrList(T.FLOAT, 'floatData', attribute.floats ?? [], false);
    case 'value_int': return scalarOrList(T.INT64, 'int64Data', [attribute.i ?? 0], true);
    case 'value_ints': return scalarOrList(T.INT64, 'int64Data', attribute.ints ?? [], false);
    case 'value_string': return scalarOrList(T.STRING, 'stringData', [attribute.s ?? new Uint8Array()], true);
    case 'value_strings': return scalarOrList(T.STRING, 'stringData', attribute.strings ?? [], false);
  }
  return undefined;
}

function resolveUses(scope: GraphScope, names: ScopeNames): void {
  scope.nodes.forEach((node, index) => {
    const ref = nodeRef(scope, node, index);
    const rescaled = rescaledDequantization(node, names);
    (node.input ?? []).forEach((input, inputIndex) => {
      if (!input) return;
      const found = lookup(names, input);
      if (found?.kind === 'weight') found.weight.uses.push({ node: ref, inputIndex });
      if (found?.kind === 'dequantized' && !rescaled) found.weight.dequantization!.uses.push({ node: ref, inputIndex });
    });
    if (rescaled) recordRescale(ref, rescaled, names);
    if (node.opType === 'DequantizeLinear') recordDequantization(ref, names);
    if (node.opType === 'Cast' && !node.domain) recordFloatCast(ref, names);
    // Names used inside a subgraph resolve when the subgraph's own scope is visited.
  });
}

function recordDequantization(ref: NodeRef, names: ScopeNames): void {
  const [dataName, scaleName, zeroPointName] = ref.proto.input ?? [];
  const data = dataName ? lookup(names, dataName) : undefined;
  if (data?.kind !== 'weight' || data.weight.dequantization) return;
  const weightNamed = (name?: string) => {
    const found = name ? lookup(names, name) : undefined;
    return found?.kind === 'weight' ? found.weight : undefined;
  };
  const intAttribute = (attributeName: string, fallback: number) => {
    const value = ref.proto.attribute?.find((a) => a.name === attributeName)?.i;
    return value === undefined || value === null ? fallback : int64ToSafeNumber(value) ?? fallback;
  };
  data.weight.dequantization = {
    kind: 'linear', node: ref, scale: weightNamed(scaleName), zeroPoint: weightNamed(zeroPointName),
    axis: intAttribute('axis', 1), blockSize: intAttribute('block_size', 0), uses: [], rescaledBy: [],
  };
  nameDequantizedOutput(ref, data.weight, names);
}

/** A weight stored as float16 (or another float type) and Cast to the type the graph computes in. */
function recordFloatCast(ref: NodeRef, names: ScopeNames): void {
  const input = ref.proto.input?.[0];
  const data = input ? lookup(names, input) : undefined;
  if (data?.kind !== 'weight' || data.weight.dequantization || !data.weight.tensor.dataType.isFloat) return;
  const to = ref.proto.attribute?.find((a) => a.name === 'to');
  const target = to?.i === undefined || to.i === null ? undefined : int64ToSafeNumber(to.i);
  if (target === undefined || !isFloatTypeCode(target)) return;
  data.weight.dequantization = { kind: 'cast', node: ref, axis: 0, blockSize: 0, uses: [], rescaledBy: [] };
  nameDequantizedOutput(ref, data.weight, names);
}

function isFloatTypeCode(code: number): boolean {
  return code === T.FLOAT || code === T.FLOAT16 || code === T.BFLOAT16 || code === T.DOUBLE;
}

function nameDequantizedOutput(ref: NodeRef, weight: WeightInfo, names: ScopeNames): void {
  const output = ref.proto.output?.[0];
  if (output) {
    names.otherNames.delete(output);
    names.dequantized.set(output, weight);
  }
}

/** The quantized weight a `Mul(dequantized, constant)` scales further, if the node is one. */
function rescaledDequantization(node: onnx.INodeProto, names: ScopeNames): WeightInfo | undefined {
  if (node.opType !== 'Mul' || node.domain || node.input?.length !== 2) return undefined;
  const [first, second] = node.input.map((input) => lookup(names, input));
  const linear = (resolved?: Resolved) => resolved?.kind === 'dequantized' && resolved.weight.dequantization?.kind === 'linear';
  if (linear(first) && second?.kind === 'weight') return first!.weight;
  if (linear(second) && first?.kind === 'weight') return second!.weight;
  return undefined;
}

function recordRescale(ref: NodeRef, weight: WeightInfo, names: ScopeNames): void {
  weight.dequantization!.rescaledBy.push(ref);
  nameDequantizedOutput(ref, weight, names);
}

type Resolved = { kind: 'weight'; weight: WeightInfo } | { kind: 'dequantized'; weight: WeightInfo };

function lookup(names: ScopeNames | undefined, name: string): Resolved | undefined {
  for (let scope = names; scope; scope = scope.parent) {
    const weight = scope.weights.get(name);
    if (weight) return { kind: 'weight', weight };
    const dequantized = scope.dequantized.get(name);
    if (dequantized) return { kind: 'dequantized', weight: dequantized };
    if (scope.otherNames.has(name)) return undefined;
  }
  return undefined;
}

function nodeRef(scope: GraphScope, node: onnx.INodeProto, index: number): NodeRef {
  return { scope: scope.path, index, label: nodeLabel(node, index), opType: node.opType ?? '', domain: node.domain ?? '', proto: node };
}

/** Groups weights by the nodes that consume them; quantize/dequantize nodes, converting Casts and rescaling Muls are not layers. */
export function listLayers(weights: readonly WeightInfo[]): Layer[] {
  const byNode = new Map<onnx.INodeProto, Layer>();
  const conversions = new Set(weights.flatMap((weight) => weight.dequantization ? [weight.dequantization.node, ...weight.dequantization.rescaledBy] : []).map((ref) => ref.proto));
  const add = (use: WeightUse, weight: WeightInfo, viaDequantize: boolean) => {
    if ((QUANTIZE_NODE_TYPES.has(use.node.opType) && !use.node.domain) || conversions.has(use.node.proto)) return;
    let layer = byNode.get(use.node.proto);
    if (!layer) byNode.set(use.node.proto, (layer = { node: use.node, weights: [] }));
    layer.weights.push({ weight, inputIndex: use.inputIndex, viaDequantize });
  };
  for (const weight of weights) {
    for (const use of weight.uses) add(use, weight, false);
    for (const use of weight.dequantization?.uses ?? []) add(use, weight, true);
  }
  return [...byNode.values()];
}
