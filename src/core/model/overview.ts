import { int64ToSafeNumber } from '../onnx/int64';
import { onnx } from '../proto';
import { dataTypeName } from '../tensor/dtypes';
import { forEachGraphScope } from './graph-walk';
import { WeightInfo } from './weights';

export interface ValueSummary {
  readonly name: string;
  /** Readable type, for example "float32[1,3,224,224]" or "float32[batch,?]" or "seq(float32[?])". */
  readonly type: string;
}

export interface DataTypeTotals {
  readonly dataType: string;
  readonly tensors: number;
  readonly parameters: number;
  readonly bytes: number;
}

export interface ModelOverview {
  readonly irVersion: number;
  readonly opsets: { readonly domain: string; readonly version: number }[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number;
  readonly docString: string;
  readonly graphName: string;
  readonly metadata: { readonly key: string; readonly value: string }[];
  readonly inputs: ValueSummary[];
  readonly outputs: ValueSummary[];
  readonly parameterCount: number;
  readonly weightBytes: number;
  readonly byDataType: DataTypeTotals[];
  /** Node counts per op type ("domain:Op" outside the default domain), subgraphs and functions included. */
  readonly opTypeCounts: { readonly opType: string; readonly count: number }[];
  readonly nodeCount: number;
  readonly subgraphCount: number;
  readonly functionCount: number;
}

export function summarizeModel(model: onnx.IModelProto, weights: readonly WeightInfo[]): ModelOverview {
  const graph = model.graph ?? {};
  const initializerNames = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const ops = countOps(model);
  return {
    irVersion: int64ToSafeNumber(model.irVersion ?? 0) ?? 0,
    opsets: (model.opsetImport ?? []).map((opset) => ({ domain: opset.domain || 'ai.onnx', version: int64ToSafeNumber(opset.version ?? 0) ?? 0 })),
    producerName: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    domain: model.domain ?? '',
    modelVersion: int64ToSafeNumber(model.modelVersion ?? 0) ?? 0,
    docString: model.docString ?? '',
    graphName: graph.name ?? '',
    metadata: (model.metadataProps ?? []).map((entry) => ({ key: entry.key ?? '', value: entry.value ?? '' })),
    // Before IR 4 initializers were also listed as inputs; they are weights, not inputs a caller feeds.
    inputs: (graph.input ?? []).filter((input) => !initializerNames.has(input.name)).map(summarizeValue),
    outputs: (graph.output ?? []).map(summarizeValue),
    parameterCount: weights.reduce((total, weight) => total + weight.elementCount, 0),
    weightBytes: weights.reduce((total, weight) => total + weight.tensor.byteLength, 0),
    byDataType: totalsByDataType(weights),
    opTypeCounts: [...ops.counts].map(([opType, count]) => ({ opType, count })).sort((a, b) => b.count - a.count || a.opType.localeCompare(b.opType)),
    nodeCount: ops.nodes,
    subgraphCount: ops.subgraphs,
    functionCount: model.functions?.length ?? 0,
  };
}

function countOps(model: onnx.IModelProto) {
  const counts = new Map<string, number>();
  let nodes = 0;
  let subgraphs = 0;
  forEachGraphScope(model, (scope) => {
    if (scope.parent) subgraphs++;
    for (const node of scope.nodes) {
      const opType = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}:${node.opType}` : node.opType ?? '';
      counts.set(opType, (counts.get(opType) ?? 0) + 1);
      nodes++;
    }
  });
  return { counts, nodes, subgraphs };
}

function totalsByDataType(weights: readonly WeightInfo[]): DataTypeTotals[] {
  const totals = new Map<string, { tensors: number; parameters: number; bytes: number }>();
  for (const weight of weights) {
    const key = weight.tensor.dataType.name;
    const entry = totals.get(key) ?? { tensors: 0, parameters: 0, bytes: 0 };
    entry.tensors++;
    entry.parameters += weight.elementCount;
    entry.bytes += weight.tensor.byteLength;
    totals.set(key, entry);
  }
  return [...totals].map(([dataType, entry]) => ({ dataType, ...entry })).sort((a, b) => b.bytes - a.bytes);
}

function summarizeValue(value: onnx.IValueInfoProto): ValueSummary {
  return { name: value.name ?? '', type: describeType(value.type ?? undefined) };
}

export function describeType(type: onnx.ITypeProto | undefined): string {
  if (!type) return '?';
  if (type.tensorType) return `${dataTypeName(type.tensorType.elemType ?? 0)}${describeShape(type.tensorType.shape ?? undefined)}`;
  if (type.sparseTensorType) return `sparse ${dataTypeName(type.sparseTensorType.elemType ?? 0)}${describeShape(type.sparseTensorType.shape ?? undefined)}`;
  if (type.sequenceType) return `seq(${describeType(type.sequenceType.elemType ?? undefined)})`;
  if (type.mapType) return `map(${dataTypeName(type.mapType.keyType ?? 0)}, ${describeType(type.mapType.valueType ?? undefined)})`;
  if (type.optionalType) return `optional(${describeType(type.optionalType.elemType ?? undefined)})`;
  if (type.opaqueType) return `opaque(${type.opaqueType.domain ?? ''}.${type.opaqueType.name ?? ''})`;
  return '?';
}

function describeShape(shape: onnx.ITensorShapeProto | undefined): string {
  if (!shape) return '';
  const dims = (shape.dim ?? []).map((dim) => {
    if (dim.dimValue !== undefined && dim.dimValue !== null) return String(dim.dimValue);
    return dim.dimParam || '?';
  });
  return `[${dims.join(',')}]`;
}
