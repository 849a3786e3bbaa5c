import { analyzeModel, openModelShared, QuantizationEstimate, WeightAnalysis, WeightInfo } from '../core';
import { formatBytes, formatCount, printable, table } from './format';

const USES_SHOWN = 2;

type Analyzed = Extract<WeightAnalysis, { status: 'analyzed' }>;
type NotAnalyzed = Exclude<WeightAnalysis, Analyzed>;

export async function inspectCommand(modelPath: string, options: { json: boolean }): Promise<string> {
  const model = await openModelShared(modelPath);
  const overview = model.overview();
  const weights = model.weights();
  const analysis = await analyzeModel(model);
  const byId = new Map(analysis.weights.map((entry) => [entry.id, entry]));
  if (options.json) {
    return JSON.stringify({ overview, weights: weights.map((weight) => ({ ...describeWeight(weight), ...byId.get(weight.id) })), layers: analysis.layers }, null, 2);
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
    '',
    ...layerSection(weights, byId, analysis.analyzedElements),
  ];
  return lines.join('\n');
}

/** One row per analyzed weight, named by the layer that consumes it, then the weights that could not be analyzed. */
function layerSection(weights: readonly WeightInfo[], byId: Map<string, WeightAnalysis>, analyzedElements: number): string[] {
  const analyzed = weights.map((weight) => ({ weight, result: byId.get(weight.id)! })).filter((entry) => entry.result.status === 'analyzed');
  const failed = weights.map((weight) => byId.get(weight.id)!).filter((result): result is NotAnalyzed => result.status === 'failed');
  const skipped = weights.length - analyzed.length - failed.length;
  return [
    `Layers     ${analyzed.length} weights analyzed (${formatCount(analyzedElements)} parameters), ${skipped} skipped (shapes, indices, quantization parameters)` +
      (failed.length ? `, ${failed.length} failed` : ''),
    `           SQNR in dB after quantize-dequantize; Prune@1% = largest magnitude-pruning sparsity losing at most 1% of L2 energy`,
    '',
    table(
      ['Layer', 'Weight', 'Shape', 'Std', 'Kurt', 'Zeros', 'Prune@1%', 'int8', 'int8/ch', 'int4/32', 'fp16', 'Dead ch', 'Notes'],
      analyzed.map(({ weight, result }) => layerRow(weight, result as Analyzed)),
    ),
    ...failed.map((result) => `Failed     ${printable(result.name, 60)}: ${printable(result.reason, 200)}`),
  ];
}

function layerRow(weight: WeightInfo, result: Analyzed): string[] {
  const { stats, quantization, channels, pruning } = result;
  const notes = [
    ...(quantization.outlierChannels ? ['outlier channels'] : []),
    ...(result.realValues ? [`${weight.tensor.dataType.name} via DequantizeLinear`] : []),
  ];
  return [
    layerText(weight), printable(weight.name, 36), `[${weight.dims.join(',')}]`,
    significant(stats.std), stats.excessKurtosis === null ? '-' : stats.excessKurtosis.toFixed(1).replace(/^-0\.0$/, '0.0'),
    percent(stats.zeros / stats.count), percent(pruning.headline.sparsity),
    sqnrText(quantization.int8PerTensor), quantization.int8PerChannel ? sqnrText(quantization.int8PerChannel) : '-',
    sqnrText(quantization.int4Block32), sqnrText(quantization.float16),
    channels ? `${channels.dead.length}/${channels.l2.length}` : '-', notes.join(', '),
  ];
}

function layerText(weight: WeightInfo): string {
  const uses = weight.dequantization ? weight.dequantization.uses : weight.uses;
  if (uses.length === 0) return '(unused)';
  const more = uses.length > 1 ? ` +${uses.length - 1}` : '';
  return `${uses[0].node.opType} ${printable(uses[0].node.label, 36)}${more}`;
}

function sqnrText(estimate: QuantizationEstimate): string {
  if (estimate.sqnrDb !== null) return estimate.sqnrDb.toFixed(1);
  return estimate.outcome === 'lossless' ? 'exact' : 'overflow';
}

function significant(value: number): string {
  return value === 0 ? '0' : value.toPrecision(3);
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction > 0 && fraction < 0.01 ? 2 : 1)}%`;
}

function usesText(weight: WeightInfo): string {
  const uses = weight.dequantization ? weight.dequantization.uses : weight.uses;
  const shown = uses.slice(0, USES_SHOWN).map((use) => `${use.node.opType} ${printable(use.node.label, 40)}[${use.inputIndex}]`);
  const more = uses.length > USES_SHOWN ? ` +${uses.length - USES_SHOWN} more` : '';
  return (weight.dequantization ? `via ${weight.dequantization.node.opType} → ` : '') + (shown.join(', ') || '(unused)') + more;
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
