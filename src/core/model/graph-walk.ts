import { onnx } from '../proto';

/** A graph together with where it sits: the main graph, a subgraph attribute, a function body. */
export interface GraphScope {
  /** Readable, unique path: "main", "main/If_0.then_branch", "function local:MyBlock", "training[0].algorithm". */
  readonly path: string;
  readonly nodes: readonly onnx.INodeProto[];
  /** The graph itself; undefined for a function body, which has no initializers. */
  readonly graph?: onnx.IGraphProto;
  /** The scope whose names this one can see (outer graphs); none for top-level graphs and functions. */
  readonly parent?: GraphScope;
  /** Input names of a function body (graphs list theirs in graph.input). */
  readonly functionInputs?: readonly string[];
}

/** Visits every graph in the model depth-first, parents before their subgraphs. */
export function forEachGraphScope(model: onnx.IModelProto, visit: (scope: GraphScope) => void): void {
  if (model.graph) walkGraph(model.graph, 'main', undefined, visit);
  (model.trainingInfo ?? []).forEach((info, index) => {
    if (info.initialization) walkGraph(info.initialization, `training[${index}].initialization`, undefined, visit);
    if (info.algorithm) walkGraph(info.algorithm, `training[${index}].algorithm`, undefined, visit);
  });
  for (const fn of model.functions ?? []) {
    const path = `function ${fn.domain ?? ''}:${fn.name ?? ''}${fn.overload ? `:${fn.overload}` : ''}`;
    const scope: GraphScope = { path, nodes: fn.node ?? [], functionInputs: fn.input ?? [] };
    visit(scope);
    walkSubgraphsOf(scope, visit);
  }
}

function walkGraph(graph: onnx.IGraphProto, path: string, parent: GraphScope | undefined, visit: (scope: GraphScope) => void): void {
  const scope: GraphScope = { path, nodes: graph.node ?? [], graph, parent };
  visit(scope);
  walkSubgraphsOf(scope, visit);
}

function walkSubgraphsOf(scope: GraphScope, visit: (scope: GraphScope) => void): void {
  scope.nodes.forEach((node, index) => {
    for (const { attribute, graph, position } of subgraphsOf(node)) {
      const suffix = position === undefined ? attribute : `${attribute}[${position}]`;
      walkGraph(graph, `${scope.path}/${nodeLabel(node, index)}.${suffix}`, scope, visit);
    }
  });
}

export function subgraphsOf(node: onnx.INodeProto): { attribute: string; graph: onnx.IGraphProto; position?: number }[] {
  const found: { attribute: string; graph: onnx.IGraphProto; position?: number }[] = [];
  for (const attribute of node.attribute ?? []) {
    if (attribute.g) found.push({ attribute: attribute.name ?? '', graph: attribute.g });
    (attribute.graphs ?? []).forEach((graph, position) => found.push({ attribute: attribute.name ?? '', graph, position }));
  }
  return found;
}

/** A node's name, or a stable stand-in "OpType#index" when it has none. */
export function nodeLabel(node: onnx.INodeProto, index: number): string {
  return node.name || `${node.opType ?? 'node'}#${index}`;
}
