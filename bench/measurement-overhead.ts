/**
 * Benchmark: how steady the runtime's latency measurement is, and what it
 * adds to every timed run.
 *
 * A model that runs in about 10 ms (a chain of MatMuls) is timed, 50 runs
 * after 5 warm-up runs, in three invocations, each a fresh process with its
 * own runtime child, as three `onnx-lens bench` commands would be. The target:
 * the three medians lie within 5% of each other. A trivial model (one Identity)
 * timed the same way shows the fixed cost per run that every timing includes,
 * and two copies of the model timed A/B (interleaved) show how far apart the
 * same model measures when both see the same machine. It reports; it does not
 * fail on a missed target.
 *
 *   npx tsc -p test/tsconfig.json && node out/bench/measurement-overhead.js
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import { benchmarkModels, LatencyChange, LatencySummary, OnnxModel, OrtRuntime } from '../src/core';
import { DataType, encode, graph, model, node, randomFloats, valueInfo } from '../test/support/model-builder';
import { matMulModel } from '../test/core/runtime-models';

const MEASURE_FLAG = '--measure';
const INVOCATIONS = 3;
const RUNS = 50;
const WARMUP_RUNS = 5;
/** Six MatMuls of [256, 512] by [512, 512]: about 10 ms on one thread of this machine. */
const SHAPE = { rows: 256, width: 512, layers: 6 };
const MAX_SPREAD = 0.05;

interface Invocation {
  readonly model: LatencySummary;
  readonly trivial: LatencySummary;
  /** The model against a copy of itself, interleaved round by round. */
  readonly copies: LatencyChange;
}

async function main(): Promise<void> {
  if (process.argv[2] === MEASURE_FLAG) {
    process.stdout.write(JSON.stringify(await measure()));
    return;
  }
  const loadBefore = os.loadavg();
  const invocations = Array.from({ length: INVOCATIONS }, () => JSON.parse(execFileSync(process.execPath, [__filename, MEASURE_FLAG], { encoding: 'utf8' })) as Invocation);
  const loadAfter = os.loadavg();
  printReport(invocations, loadBefore, loadAfter);
}

async function measure(): Promise<Invocation> {
  const runtime = new OrtRuntime();
  const options = { rounds: RUNS, warmupRuns: WARMUP_RUNS };
  const timed = matMulModel(SHAPE.rows, SHAPE.width, randomFloats(SHAPE.width * SHAPE.width, 1, 1 / Math.sqrt(SHAPE.width)), SHAPE.layers);
  const source = (name: string, bytes: Uint8Array) => ({ name, model: OnnxModel.fromBytes(bytes) });
  try {
    const modelReport = await benchmarkModels(runtime, [source('matmul-chain', timed)], options);
    const trivialReport = await benchmarkModels(runtime, [source('identity', trivialModel())], options);
    const copiesReport = await benchmarkModels(runtime, [source('matmul-chain', timed), source('matmul-chain copy', timed)], options);
    return { model: modelReport.models[0].latency, trivial: trivialReport.models[0].latency, copies: copiesReport.change! };
  } finally {
    runtime.dispose();
  }
}

function trivialModel(): Uint8Array {
  return encode(model(graph({ nodes: [node('Identity', ['x'], ['y'])], inputs: [valueInfo('x', DataType.FLOAT, [1])], outputs: [valueInfo('y', DataType.FLOAT, [1])] })));
}

function printReport(invocations: Invocation[], loadBefore: number[], loadAfter: number[]): void {
  const ms = (value: number) => value.toFixed(3).padStart(9);
  const medians = invocations.map((invocation) => invocation.model.medianMs);
  const spread = spreadOf(medians);
  const trivial = median(invocations.map((invocation) => invocation.trivial.medianMs));
  const lines = [
    `${os.cpus().length} cores, Node ${process.version}, load average ${formatLoad(loadBefore)} before, ${formatLoad(loadAfter)} after`,
    `model: ${SHAPE.layers} MatMuls [${SHAPE.rows},${SHAPE.width}] x [${SHAPE.width},${SHAPE.width}], ${RUNS} runs after ${WARMUP_RUNS} warm-up, 1 thread`,
    '',
    'invocation   median ms   p90 ms      min ms      max ms      CPU median ms   trivial median ms   A/B of two copies',
    ...invocations.map(({ model: m, trivial: t, copies: c }, index) =>
      `${String(index + 1).padEnd(10)} ${ms(m.medianMs)}   ${ms(m.p90Ms)}   ${ms(m.minMs)}   ${ms(m.maxMs)}   ${ms(m.cpuMedianMs)}       ${ms(t.medianMs)}       `
      + `${signed(c.change)} (${signed(c.low)} … ${signed(c.high)}) ${c.verdict}`),
    '',
    `spread of the medians (max - min) / min: ${percent(spread)} -> ${spread <= MAX_SPREAD ? 'met' : 'missed'} (target <= ${percent(MAX_SPREAD)})`,
    `spread of the CPU-time medians: ${percent(spreadOf(invocations.map((invocation) => invocation.model.cpuMedianMs)))}`,
    `fixed cost per timed run (trivial model): ${(trivial * 1000).toFixed(1)} us, ${percent(trivial / median(medians))} of the model's median`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function spreadOf(values: number[]): number {
  return (Math.max(...values) - Math.min(...values)) / Math.min(...values);
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

function signed(fraction: number): string {
  return `${fraction < 0 ? '' : '+'}${percent(fraction)}`;
}

function formatLoad(load: number[]): string {
  return load.map((value) => value.toFixed(2)).join(' ');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

void main();
