import { OnnxModel, WeightInfo } from '../core';
import { formatBytes, formatCount, printable, table } from './format';

const USES_SHOWN = 2;

export async function inspectCommand(modelPath: string, options: { json: boolean }): Promise<string> {
  const model = await OnnxModel.open(modelPath);
  const overview = model.overview();
  const weights = model.weights();
  if (options.json) {
    return JSON.stringify({ overview, weights: weights.map(describeWeight), layers: model.layers().map(describeLayer) }, null, 2);
  }
  const lines = [
    `Model      ${printable(modelPath, 200)}`,
    `Producer   ${printable(`${overview.producerName} ${overview.producerVersion}`.trim() || '(not stated)')}`,
    `IR         ${overview.irVersion}   opsets ${overview.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`,
    ...overview.inputs.map((input) => `Input      ${printable(input.name)}: ${printable(input.type)}`),
    ...overview.outputs.map((output) => `Output     ${printable(output.name)}: ${printable(output.type)}`),
    `Weights    ${weights.length} tensors, ${formatCount(overview.parameterCount)} parameters, ${formatBytes(overview.weightBytes)}`,
    ...overview.byDataType.map((t) => `           ${t.dataType}: ${t.tensors} tensors, ${formatCount(t.parameters)} parameters, ${formatBytes(t.bytes)}`),
    `Nodes      ${overview.nodeCount} in ${1 + overview.subgraphCount} graphs, ${overview.functionCount} functions: ` +
      overview.opTypeCounts.slice(0, 12).map((op) => `${printable(op.opType, 30)} ${op.count}`).join(', ') +
      (overview.opTypeCounts.length > 12 ? ', …' : ''),
    '',
    table(
      ['Weight', 'Where', 'Type', 'Shape', 'Params', 'Bytes', 'Used by'],
      weights.map((weight) => [
        printable(weight.name, 40), weight.origin + (weight.scope === 'main' ? '' : ` in ${printable(weight.scope, 40)}`),
        weight.tensor.dataType.name, `[${weight.dims.join(',')}]`, String(weight.elementCount), String(weight.tensor.byteLength),
        usesText(weight),
      ]),
    ),
  ];
  return lines.join('\n');
}

function usesText(weight: WeightInfo): string {
  const uses = weight.dequantization ? weight.dequantization.uses : weight.uses;
  const shown = uses.slice(0, USES_SHOWN).map((use) => `${use.node.opType} ${printable(use.node.label, 40)}[${use.inputIndex}]`);
  const more = uses.length > USES_SHOWN ? ` +${uses.length - USES_SHOWN} more` : '';
  return (weight.dequantization ? 'via DequantizeLinear → ' : '') + (shown.join(', ') || '(unused)') + more;
}

function describeWeight(weight: WeightInfo) {
  return {
    id: weight.id, name: weight.name, origin: weight.origin, scope: weight.scope,
    dataType: weight.tensor.dataType.name, dims: weight.dims, elementCount: weight.elementCount,
    bytes: weight.tensor.byteLength, storage: weight.tensor.storage,
    uses: weight.uses.map((use) => ({ node: use.node.label, scope: use.node.scope, opType: use.node.opType, inputIndex: use.inputIndex })),
    dequantizedBy: weight.dequantization?.node.label,
  };
}

function describeLayer(layer: ReturnType<OnnxModel['layers']>[number]) {
  return {
    node: layer.node.label, scope: layer.node.scope, opType: layer.node.opType,
    weights: layer.weights.map((entry) => ({ id: entry.weight.id, inputIndex: entry.inputIndex, viaDequantize: entry.viaDequantize })),
  };
}
