/** The bench and compare commands: measurements with ONNX Runtime, as tables or JSON. */
import {
  benchmarkModels, BenchmarkReport, compareModels, ComparisonReport, LatencyChange, LatencySummary, LayerSizeChange,
  MeasureOptions, OrtRuntime, OutputFidelity, PreparedInput, SizeFigures, TimingSettings,
} from '../core';
import { MeasureFlags } from './args';
import { formatBytes, formatChange, formatError, formatMs, printable, table } from './format';
import { progressLine } from './progress';

export interface CommandContext {
  readonly signal: AbortSignal;
  readonly progress: NodeJS.WriteStream;
}

export async function benchCommand(models: string[], flags: MeasureFlags & { json: boolean }, context: CommandContext): Promise<string> {
  const report = await withRuntime(flags, context, (runtime, options) => benchmarkModels(runtime, models.map((path) => ({ path })), options));
  return flags.json ? toJson(report) : renderBenchmark(report);
}

export async function compareCommand(before: string, after: string, flags: MeasureFlags & { json: boolean }, context: CommandContext): Promise<string> {
  const report = await withRuntime(flags, context, (runtime, options) => compareModels(runtime, { path: before }, { path: after }, options));
  return flags.json ? toJson(report) : renderComparison(report);
}

async function withRuntime<T>(flags: MeasureFlags, context: CommandContext, work: (runtime: OrtRuntime, options: MeasureOptions) => Promise<T>): Promise<T> {
  const runtime = new OrtRuntime({ timeoutMs: flags.timeoutMs });
  const progress = progressLine(context.progress);
  try {
    return await work(runtime, { ...flags.measure, signal: context.signal, onProgress: progress.report });
  } finally {
    progress.clear();
    runtime.dispose();
  }
}

/** JSON has no Infinity or NaN: an SQNR of identical outputs is written "Infinity". */
function toJson(report: object): string {
  return JSON.stringify(report, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value), 2);
}

function renderBenchmark(report: BenchmarkReport): string {
  const pair = report.models.length === 2;
  const labels = pair ? ['A', 'B'] : ['Model'];
  return [
    ...report.models.map((model, index) => `${labels[index].padEnd(10)} ${printable(model.name, 200)}`),
    ...renderInputs(report.inputs, 1),
    renderSettings(report.settings),
    '',
    pair
      ? table(['', ...LATENCY_COLUMNS], report.models.map((model, index) => [labels[index], ...latencyCells(model.latency)]))
      : table(LATENCY_COLUMNS, [latencyCells(report.models[0].latency)]),
    ...(report.change ? ['', `B against A: ${renderChange(report.change)}`] : []),
  ].join('\n');
}

function renderComparison(report: ComparisonReport): string {
  return [
    `A          ${printable(report.before, 200)}`,
    `B          ${printable(report.after, 200)}`,
    ...renderInputs(report.inputs, report.inputSets),
    '',
    ...renderSize(report),
    '',
    'Outputs of B against A',
    table(['Output', 'Shape', 'Cosine', 'Max abs error', 'Rel L2 error', 'SQNR dB', 'Top-1'], report.outputs.map(fidelityCells)),
    ...report.outputs.filter((output) => output.incomparable).map((output) => `  ${printable(output.name)}: not compared, ${output.incomparable}.`),
    '',
    ...(report.latency
      ? [renderSettings(report.settings), '',
        table(['', ...LATENCY_COLUMNS], [['A', ...latencyCells(report.latency.before)], ['B', ...latencyCells(report.latency.after)]]),
        '', `B against A: ${renderChange(report.latency.change)}`]
      : ['Latency    not measured (--runs 0)']),
  ].join('\n');
}

function renderInputs(inputs: readonly PreparedInput[], sets: number): string[] {
  const origin = (input: PreparedInput) => {
    switch (input.origin.kind) {
      case 'synthesised': return 'synthesised';
      case 'constant': return `= ${input.origin.value}`;
      case 'file': return `from ${printable(input.origin.file, 80)}`;
    }
  };
  const lines = inputs.map((input, index) =>
    `${index === 0 ? 'Inputs' : ''}`.padEnd(11) + `${printable(input.name)}: ${input.type}[${input.dims.join(',')}] ${origin(input)}`);
  return sets > 1 ? [...lines, `           ${sets} input sets`] : lines;
}

function renderSettings(settings: TimingSettings): string {
  return `Latency    ${settings.rounds} interleaved rounds after ${settings.warmupRuns} warm-up runs, ${settings.threads} thread${settings.threads === 1 ? '' : 's'} per operator`;
}

/** Wall-clock figures, then the CPU time per run: far below the wall median, the machine was busy. */
const LATENCY_COLUMNS = ['Median', 'p90', 'Min', 'Max', 'CPU median'];

function latencyCells(latency: LatencySummary): string[] {
  return [formatMs(latency.medianMs), formatMs(latency.p90Ms), formatMs(latency.minMs), formatMs(latency.maxMs), formatMs(latency.cpuMedianMs)];
}

/** "−31.2% (−34.0% … −28.1%), faster": the change of the median and its 95% confidence interval. */
function renderChange(change: LatencyChange): string {
  return `${formatChange(change.change)} (95% interval ${formatChange(change.low)} … ${formatChange(change.high)}), ${change.verdict}`;
}

function renderSize(report: ComparisonReport): string[] {
  const { before, after, layers } = report.size;
  const changed = layers.filter((layer) => layer.before?.raw !== layer.after?.raw);
  const rows = [
    ['model, raw', formatBytes(before.total.raw), formatBytes(after.total.raw), formatChange(after.total.raw / before.total.raw - 1)],
    ['model, gzip', formatBytes(before.total.gzip), formatBytes(after.total.gzip), formatChange(after.total.gzip / before.total.gzip - 1)],
    ...changed.map(layerSizeCells),
  ];
  const unchanged = layers.length - changed.length;
  return [
    table(['Size', 'A', 'B', 'Change'], rows),
    `${changed.length === 0 ? 'All' : unchanged} of ${layers.length} layers keep their raw size${changed.length > 0 ? '; the others are listed above (raw / gzip)' : ''}.`,
  ];
}

function layerSizeCells(layer: LayerSizeChange): string[] {
  const figures = (size?: SizeFigures) => (size ? `${formatBytes(size.raw)} / ${formatBytes(size.gzip)}` : 'none');
  const change = layer.before && layer.after ? formatChange(layer.after.raw / layer.before.raw - 1) : layer.before ? 'removed' : 'added';
  return [`${printable(layer.layer, 50)} (${layer.before?.opType ?? layer.after?.opType})`, figures(layer.before), figures(layer.after), change];
}

function fidelityCells(output: OutputFidelity): string[] {
  if (output.incomparable) return [printable(output.name), `[${output.dims.join(',')}]`, '-', '-', '-', '-', '-'];
  return [
    printable(output.name),
    `[${output.dims.join(',')}]`,
    output.identical ? 'identical' : output.cosineSimilarity.toFixed(6),
    formatError(output.maxAbsoluteError),
    formatError(output.relativeL2Error),
    Number.isFinite(output.sqnrDb) ? output.sqnrDb.toFixed(1) : output.sqnrDb > 0 ? 'inf' : String(output.sqnrDb),
    output.top1Agreement === undefined ? '-' : `${(output.top1Agreement * 100).toFixed(1)}%`,
  ];
}
