import { forEachGraphScope, GraphScope, nodeLabel } from '../model/graph-walk';
import { discoverWeights, Layer, listLayers, NodeRef, WeightInfo } from '../model/weights';
import { int64ToSafeNumber, toLong } from '../onnx/int64';
import { onnx } from '../proto';
import { ExternalDataReader } from '../tensor/external-data';
import { cloneStructure } from './clone';
import { ComputedTensors } from './computed-tensors';
import { constantNode } from './nodes';
import { OnnxModel } from '../model/onnx-model';

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);
/** IR 4 let initializers exist without a matching graph input. */
const IR_INITIALIZERS_WITHOUT_INPUTS = 4;
const MAIN_SCOPE = 'main';

interface ScopeState {
  readonly scope: GraphScope;
  readonly fn?: onnx.IFunctionProto;
  readonly replaced: Map<onnx.INodeProto, onnx.INodeProto[]>;
  readonly prepended: onnx.INodeProto[];
}

/**
 * A working copy of a model that a pass rewrites: the structure is copied,
 * tensor values are shared with the input, and weights are discovered again on
 * the copy so that every NodeRef points into it. Node-list edits are collected
 * and applied once by finish().
 */
export class ModelRewriter {
  readonly proto: onnx.ModelProto;
  readonly weights: WeightInfo[];
  readonly layers: Layer[];
  readonly externalData?: ExternalDataReader;
  readonly opsetImportsAdded: { domain: string; version: number }[] = [];
  private readonly scopes = new Map<string, ScopeState>();
  private readonly ambiguousScopes = new Set<string>();
  private readonly names: Set<string>;
  private readonly layerByNode: Map<onnx.INodeProto, Layer>;
  /** Per scope, the readers of each value, indexed on first use (the node lists do not change before finish()). */
  private readonly readerIndex = new Map<string, Map<string, { node: NodeRef; slot: number }[]>>();
  private nodesAdded = 0;
  private nodesRemoved = 0;

  /** `computed` receives every tensor a pass adds, to keep it in memory or move it to disk. */
  constructor(input: OnnxModel, readonly computed = new ComputedTensors(false)) {
    this.proto = cloneStructure(input.proto);
    this.externalData = input.externalData;
    this.weights = discoverWeights(this.proto, input.externalData);
    this.layers = listLayers(this.weights);
    this.layerByNode = new Map(this.layers.map((layer) => [layer.node.proto, layer]));
    forEachGraphScope(this.proto, (scope) => this.addScope(scope));
    this.names = collectNames(this.proto);
  }

  get irVersion(): number {
    return int64ToSafeNumber(this.proto.irVersion ?? 0) ?? 0;
  }

  get nodeCounts(): { added: number; removed: number } {
    return { added: this.nodesAdded, removed: this.nodesRemoved };
  }

  /** Why a scope cannot be edited, or undefined when it can. */
  scopeProblem(path: string): string | undefined {
    if (this.ambiguousScopes.has(path)) return `two subgraphs share the path ${path}, so edits there could land in the wrong one`;
    if (path.startsWith('training[')) return 'it belongs to the model\'s training information, which passes leave alone';
    return undefined;
  }

  isFunctionScope(path: string): boolean {
    return this.state(path).fn !== undefined;
  }

  /** The operator-set version a scope imports for a domain (0 when it imports none). */
  opset(path: string, domain = ''): number {
    const imports = this.state(path).fn?.opsetImport ?? this.proto.opsetImport ?? [];
    const wanted = (candidate: string | null | undefined) => (DEFAULT_DOMAINS.has(domain) ? DEFAULT_DOMAINS.has(candidate ?? '') : candidate === domain);
    const found = imports.find((entry) => wanted(entry.domain));
    return found ? int64ToSafeNumber(found.version ?? 0) ?? 0 : 0;
  }

  /** Adds a domain import to the model when it has none; never changes an existing version. */
  importDomain(domain: string, version: number): void {
    if ((this.proto.opsetImport ?? []).some((entry) => entry.domain === domain)) return;
    this.proto.opsetImport = [...(this.proto.opsetImport ?? []), onnx.OperatorSetIdProto.create({ domain, version: toLong(version) })];
    this.opsetImportsAdded.push({ domain, version });
  }

  /** A value or node name used nowhere in the model, close to `base`. */
  uniqueName(base: string): string {
    let name = base;
    for (let suffix = 1; this.names.has(name); suffix++) name = `${base}_${suffix}`;
    this.names.add(name);
    return name;
  }

  /** Is `name` a graph input of the weight's scope (an initializer a feed may override)? */
  isGraphInput(weight: WeightInfo): boolean {
    return (this.state(weight.scope).scope.graph?.input ?? []).some((input) => input.name === weight.name);
  }

  /** Is the value a graph output anywhere (a use that no node records)? */
  isGraphOutput(name: string): boolean {
    for (const { scope } of this.scopes.values()) {
      if ((scope.graph?.output ?? []).some((output) => output.name === name)) return true;
    }
    return false;
  }

  /**
   * Adds tensors to a scope as initializers; an IR 3 main graph also declares
   * them as inputs, as that IR requires. Function bodies (and IR 3 subgraphs,
   * whose inputs are fixed by their node) get Constant nodes instead.
   */
  addTensors(path: string, tensors: onnx.ITensorProto[]): void {
    for (const tensor of tensors) this.computed.keep(tensor);
    const { scope } = this.state(path);
    const needsInputs = this.irVersion < IR_INITIALIZERS_WITHOUT_INPUTS;
    if (scope.graph && (!needsInputs || path === MAIN_SCOPE)) {
      scope.graph.initializer = [...(scope.graph.initializer ?? []), ...tensors];
      if (needsInputs) scope.graph.input = [...(scope.graph.input ?? []), ...tensors.map(declaration)];
    } else {
      this.prependNodes(path, tensors.map((tensor) => constantNode(tensor, this.uniqueName(`${tensor.name}_Constant`))));
    }
  }

  replaceNode(node: NodeRef, replacement: onnx.INodeProto[]): void {
    const state = this.state(node.scope);
    const previous = state.replaced.get(node.proto);
    this.nodesAdded += replacement.length - (previous ? previous.length : 0);
    if (!previous) this.nodesRemoved++;
    state.replaced.set(node.proto, replacement);
  }

  prependNodes(path: string, nodes: onnx.INodeProto[]): void {
    this.state(path).prepended.push(...nodes);
    this.nodesAdded += nodes.length;
  }

  /** Removes a weight from where it is stored (and from the graph inputs of an IR 3 model). */
  removeWeight(weight: WeightInfo): void {
    if (weight.origin === 'constant') return this.replaceNode(weight.producer!, []);
    const graph = this.state(weight.scope).scope.graph!;
    if (weight.origin === 'initializer') graph.initializer = (graph.initializer ?? []).filter((tensor) => tensor !== weight.tensor.proto);
    else graph.sparseInitializer = (graph.sparseInitializer ?? []).filter((sparse) => sparse.values !== weight.tensor.proto);
    graph.input = (graph.input ?? []).filter((input) => input.name !== weight.name);
  }

  /** Makes `nodes` (whose last output is the weight's name) produce the weight instead of its stored tensor. */
  redefineWeight(weight: WeightInfo, nodes: onnx.INodeProto[]): void {
    if (weight.origin === 'constant') return this.replaceNode(weight.producer!, nodes);
    this.removeWeight(weight);
    this.prependNodes(weight.scope, nodes);
  }

  /** Stores new values for a weight under its name (dense, where it was; a sparse initializer becomes a dense one). */
  replaceWeightTensor(weight: WeightInfo, tensor: onnx.ITensorProto): void {
    this.computed.keep(tensor);
    if (weight.origin === 'initializer') {
      const graph = this.state(weight.scope).scope.graph!;
      graph.initializer = (graph.initializer ?? []).map((old) => (old === weight.tensor.proto ? tensor : old));
    } else if (weight.origin === 'constant') {
      this.replaceNode(weight.producer!, [constantNode(tensor, weight.producer!.proto.name ?? '')]);
    } else {
      this.removeWeight(weight);
      this.addTensors(weight.scope, [tensor]);
    }
    this.updateDeclaredShapes(weight.name, tensor.dims?.map((dim) => int64ToSafeNumber(dim) ?? 0) ?? []);
  }

  /** Rewrites the declared shape of a value wherever a graph declares it (value_info, inputs). */
  updateDeclaredShapes(name: string, dims: readonly number[]): void {
    for (const { scope } of this.scopes.values()) {
      for (const info of [...(scope.graph?.input ?? []), ...(scope.graph?.valueInfo ?? [])]) {
        const tensorType = info.name === name ? info.type?.tensorType : undefined;
        if (tensorType?.shape) tensorType.shape = { dim: dims.map((dim) => ({ dimValue: toLong(dim) })) };
      }
    }
  }

  /** Forgets declared shapes of a value (value_info only): used when a pass changes a dimension it cannot name. */
  dropValueInfo(name: string): void {
    for (const { scope } of this.scopes.values()) {
      if (scope.graph?.valueInfo?.some((info) => info.name === name)) scope.graph.valueInfo = scope.graph.valueInfo.filter((info) => info.name !== name);
    }
  }

  /** The layer a node is, if it consumes a weight. */
  layerOf(node: onnx.INodeProto): Layer | undefined {
    return this.layerByNode.get(node);
  }

  /** The nodes of a scope that read `value`, with the input slot, as they were before any edit. */
  readersOf(path: string, value: string): { node: NodeRef; slot: number }[] {
    let index = this.readerIndex.get(path);
    if (!index) this.readerIndex.set(path, (index = this.indexReaders(path)));
    return index.get(value) ?? [];
  }

  private indexReaders(path: string): Map<string, { node: NodeRef; slot: number }[]> {
    const { scope } = this.state(path);
    const index = new Map<string, { node: NodeRef; slot: number }[]>();
    scope.nodes.forEach((proto, nodeIndex) => {
      (proto.input ?? []).forEach((input, slot) => {
        if (!input) return;
        const readers = index.get(input) ?? [];
        if (readers.length === 0) index.set(input, readers);
        readers.push({ node: nodeRefOf(scope, proto, nodeIndex), slot });
      });
    });
    return index;
  }

  /** Is `value` read by a node inside any subgraph nested in the scope? */
  readInSubgraph(path: string, value: string): boolean {
    const prefix = `${path}/`;
    for (const [candidate, { scope }] of this.scopes) {
      if (candidate.startsWith(prefix) && scope.nodes.some((node) => node.input?.includes(value))) return true;
    }
    return false;
  }

  /** Applies the collected node-list edits and returns the rewritten model. */
  finish(): onnx.ModelProto {
    for (const state of this.scopes.values()) {
      if (state.replaced.size === 0 && state.prepended.length === 0) continue;
      const nodes = [...state.prepended, ...state.scope.nodes.flatMap((node) => state.replaced.get(node) ?? [node])];
      if (state.fn) state.fn.node = nodes;
      else state.scope.graph!.node = nodes;
    }
    return this.proto;
  }

  private state(path: string): ScopeState {
    const state = this.scopes.get(path);
    if (!state) throw new Error(`internal: the working copy has no scope ${path}.`);
    return state;
  }

  private addScope(scope: GraphScope): void {
    if (this.scopes.has(scope.path)) this.ambiguousScopes.add(scope.path);
    const fn = scope.graph ? undefined : (this.proto.functions ?? []).find((candidate) => candidate.node === scope.nodes);
    this.scopes.set(scope.path, { scope, fn, replaced: new Map(), prepended: [] });
  }
}

function declaration(tensor: onnx.ITensorProto): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({ name: tensor.name, type: { tensorType: { elemType: tensor.dataType, shape: { dim: (tensor.dims ?? []).map((dimValue) => ({ dimValue })) } } } });
}

function nodeRefOf(scope: GraphScope, proto: onnx.INodeProto, index: number): NodeRef {
  return { scope: scope.path, index, label: nodeLabel(proto, index), opType: proto.opType ?? '', domain: proto.domain ?? '', proto };
}

function collectNames(model: onnx.IModelProto): Set<string> {
  const names = new Set<string>();
  const add = (name: string | null | undefined) => name && names.add(name);
  forEachGraphScope(model, (scope) => {
    for (const tensor of scope.graph?.initializer ?? []) add(tensor.name);
    for (const sparse of scope.graph?.sparseInitializer ?? []) add(sparse.values?.name);
    for (const info of [...(scope.graph?.input ?? []), ...(scope.graph?.output ?? []), ...(scope.graph?.valueInfo ?? [])]) add(info.name);
    for (const input of scope.functionInputs ?? []) add(input);
    for (const node of scope.nodes) {
      add(node.name);
      for (const value of [...(node.input ?? []), ...(node.output ?? [])]) add(value);
    }
  });
  return names;
}
