/**
 * Benchmark: whole-model dynamic int8 of a BERT-base-sized model.
 *
 * Generates (once, cached under bench/.work/) a 110 M-parameter encoder, then
 * in fresh child processes (this script with --measure, so each peak RSS is
 * this work alone) opens it into shared memory (openModelShared, as the editor
 * does), runs quantizeDynamicInt8 on every layer, and encodes the result. Prints each run, the median and the best, the machine's
 * load, and the targets: the pass under 0.6 s, the result at most 26% of the
 * original. It reports; it does not fail on a missed target.
 *
 *   npx tsc -p test/tsconfig.json && node out/bench/quantize-large-model.js [runs]
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openModelShared, quantizeDynamicInt8 } from '../src/core';
import { BERT_BASE, ensureBertModel } from './quantize-bert-model';

const MEASURE_FLAG = '--measure';
const DEFAULT_RUNS = 5;
const MODEL_PATH = path.resolve(__dirname, '../../bench/.work', 'bert-base-110m.onnx');
const CHILD_OUTPUT_LIMIT = 1 << 20;
const KIB = 1024;
const MB = 1e6;

/** From the issue: the pass takes under this many seconds... */
const MAX_PASS_SECONDS = 0.6;
/** ...and its result is at most this share of the original. */
const MAX_SIZE_SHARE = 0.26;

interface Figures {
  /** Reading the file into shared memory and decoding it. */
  readonly openMs: number;
  /** quantizeDynamicInt8 over every layer: the number the target is about. */
  readonly passMs: number;
  /** Encoding the result to bytes, as saving it would. */
  readonly encodeMs: number;
  readonly originalBytes: number;
  readonly resultBytes: number;
  readonly tensors: number;
  readonly parameters: number;
  readonly peakRssBytes: number;
}

async function measure(modelPath: string): Promise<Figures> {
  // As the editor opens models: the file's bytes in shared memory, so that worker threads read the weights where they are.
  const opened = await timed(() => openModelShared(modelPath));
  const parameters = opened.value.weights().filter((w) => w.tensor.dataType.name === 'float32').reduce((n, w) => n + w.elementCount, 0);
  const pass = await timed(() => quantizeDynamicInt8(opened.value));
  const encoded = await timed(() => pass.value.model.encode());
  return {
    openMs: opened.ms, passMs: pass.ms, encodeMs: encoded.ms,
    originalBytes: opened.value.bytes.byteLength, resultBytes: encoded.value.byteLength,
    tensors: pass.value.report.tensors.length, parameters,
    peakRssBytes: process.resourceUsage().maxRSS * KIB,
  };
}

async function timed<T>(work: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

const ROWS: { label: string; value: (f: Figures) => number; format: (v: number) => string }[] = [
  { label: 'openModelShared: read + decode (ms)', value: (f) => f.openMs, format: (v) => v.toFixed(0) },
  { label: 'quantizeDynamicInt8, all layers (ms)', value: (f) => f.passMs, format: (v) => v.toFixed(0) },
  { label: 'encode the result (ms)', value: (f) => f.encodeMs, format: (v) => v.toFixed(0) },
  { label: 'original (MB)', value: (f) => f.originalBytes, format: (v) => (v / MB).toFixed(1) },
  { label: 'result (MB)', value: (f) => f.resultBytes, format: (v) => (v / MB).toFixed(1) },
  { label: '  result / original', value: (f) => f.resultBytes / f.originalBytes, format: (v) => `${(v * 100).toFixed(1)}%` },
  { label: 'peak RSS (MB)', value: (f) => f.peakRssBytes, format: (v) => (v / MB).toFixed(0) },
];

async function main(): Promise<void> {
  if (process.argv[2] === MEASURE_FLAG) {
    process.stdout.write(JSON.stringify(await measure(process.argv[3])));
    return;
  }
  const runs = Number(process.argv[2] ?? DEFAULT_RUNS);
  await ensureBertModel(MODEL_PATH);
  const loadBefore = os.loadavg();
  const figures = Array.from({ length: runs }, () => JSON.parse(execFileSync(process.execPath, [__filename, MEASURE_FLAG, MODEL_PATH], { encoding: 'utf8', maxBuffer: CHILD_OUTPUT_LIMIT })) as Figures);
  const loadAfter = os.loadavg();
  const first = figures[0];
  console.log(`Model: ${path.relative(process.cwd(), MODEL_PATH)}: BERT-base shape (${BERT_BASE.layers} layers, hidden ${BERT_BASE.hidden}, FFN ${BERT_BASE.intermediate}, vocabulary ${BERT_BASE.vocabulary}), ${(first.parameters / 1e6).toFixed(1)} M float32 parameters, ${first.tensors} tensors quantized`);
  console.log(`Node ${process.version}, ${os.cpus().length} cores, ${runs} fresh processes; load average (1, 5, 15 min) ${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after\n`);
  printTable(figures);
  const passSeconds = median(figures.map((f) => f.passMs)) / 1000;
  const bestSeconds = Math.min(...figures.map((f) => f.passMs)) / 1000;
  const share = median(figures.map((f) => f.resultBytes / f.originalBytes));
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  console.log('\nTargets:');
  console.log(`  pass < ${MAX_PASS_SECONDS} s: median ${passSeconds.toFixed(3)} s -> ${verdict(passSeconds < MAX_PASS_SECONDS)}; best ${bestSeconds.toFixed(3)} s -> ${verdict(bestSeconds < MAX_PASS_SECONDS)}`);
  console.log(`  result <= ${MAX_SIZE_SHARE * 100}% of the original: ${(share * 100).toFixed(1)}% -> ${verdict(share <= MAX_SIZE_SHARE)}`);
}

function printTable(figures: Figures[]): void {
  const width = Math.max(...ROWS.map((row) => row.label.length));
  const cell = (text: string) => text.padStart(9);
  console.log([''.padEnd(width), ...figures.map((_, i) => cell(`run ${i + 1}`)), cell('median'), cell('best')].join(' '));
  for (const row of ROWS) {
    const values = figures.map(row.value);
    console.log([row.label.padEnd(width), ...values.map((v) => cell(row.format(v))), cell(row.format(median(values))), cell(row.format(Math.min(...values)))].join(' '));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function fmtLoad(load: number[]): string {
  return load.map((value) => value.toFixed(2)).join(', ');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
