import * as path from 'node:path';
import { Layer, layerId as passLayerId, OnnxModel } from '../core';
import type { LayerRow, OverviewSummary } from '../shared/protocol';

export function summarizeOverview(model: OnnxModel, fileName: string): OverviewSummary {
  const overview = model.overview();
  return {
    fileName: path.basename(fileName),
    producer: `${overview.producerName} ${overview.producerVersion}`.trim(),
    irVersion: overview.irVersion,
    opsets: overview.opsets.map((opset) => `${opset.domain} ${opset.version}`),
    inputs: overview.inputs,
    outputs: overview.outputs,
    parameterCount: overview.parameterCount,
    fileBytes: model.bytes.length,
    byDataType: overview.byDataType,
    opTypeCounts: overview.opTypeCounts,
    nodeCount: overview.nodeCount,
    graphCount: 1 + overview.subgraphCount,
  };
}

/** A layer's id, as the passes name layers: "scope::label". */
export function layerId(layer: Layer): string {
  return passLayerId(layer.node);
}

/** The same id from a scope and node label, for places that hold no Layer (analysis results, text view lines). */
export function layerIdOf(scope: string, label: string): string {
  return passLayerId({ scope, label });
}

/** The weight a layer is about: the largest one it consumes (a Conv's kernel rather than its bias). */
export function mainWeight(layer: Layer) {
  return layer.weights.reduce((best, entry) => (entry.weight.elementCount > best.weight.elementCount ? entry : best));
}

export function summarizeLayer(layer: Layer, actions: LayerRow['actions']): LayerRow {
  const { weight } = mainWeight(layer);
  return {
    id: layerId(layer),
    name: layer.node.label,
    opType: layer.node.opType,
    scope: layer.node.scope === 'main' ? '' : layer.node.scope,
    weightName: weight.name,
    shape: weight.dims,
    dataType: weight.tensor.dataType.name,
    parameters: layer.weights.reduce((total, entry) => total + entry.weight.elementCount, 0),
    bytes: layer.weights.reduce((total, entry) => total + entry.weight.tensor.byteLength, 0),
    actions,
  };
}

/** Ops that compute directly on a quantized weight: what dynamic int8 and int4 turn a layer into. */
const INTEGER_KERNELS = new Set(['MatMulInteger', 'ConvInteger', 'MatMulNBits', 'Gather']);
const QUANTIZED_STORAGE = new Set(['int8', 'uint8']);

/** Layers worth a row: nodes that consume at least one weight of more than one element, float or quantized. */
export function tableLayers(model: OnnxModel): Layer[] {
  return model.layers().filter((layer) => layer.weights.some((entry) => entry.weight.elementCount > 1 && (
    entry.weight.tensor.dataType.isFloat || entry.viaDequantize
    || (INTEGER_KERNELS.has(layer.node.opType) && QUANTIZED_STORAGE.has(entry.weight.tensor.dataType.name)))));
}
