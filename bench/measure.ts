/**
 * One measurement, meant to run alone in a fresh process so that its peak RSS
 * reflects only what opening and walking the model costs.
 */
import { promises as fs } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { decodeModel, discoverWeights, OnnxModel, WeightInfo } from '../src/core';

export interface Figures {
  readonly fileBytes: number;
  readonly readMs: number;
  /** Summing the whole file viewed as float32: the least any pass over the values can cost. */
  readonly floorMs: number;
  readonly decodeMs: number;
  readonly discoverMs: number;
  /** decodeModel and discoverWeights together, as OnnxModel.fromBytes does them. */
  readonly fromBytesMs: number;
  /** `await weight.tensor.floats()` and a sum over the values, for every weight. */
  readonly walkMs: number;
  readonly weightCount: number;
  /** Weights whose floats() were a view of the file buffer rather than a copy. */
  readonly zeroCopyWeights: number;
  readonly peakRssBytes: number;
  /** The sums the floor and the walk computed: the same in every run, and reporting them keeps the loops from being optimized away. */
  readonly checksums: { readonly file: number; readonly weights: number };
}

const KIB = 1024;

export async function measure(modelPath: string): Promise<Figures> {
  const read = await timed(() => fs.readFile(modelPath));
  const bytes = read.value;
  const floor = await timed(() => sumValues(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2)));
  const decoded = await timed(() => decodeModel(bytes));
  const discovered = await timed(() => discoverWeights(decoded.value));
  const opened = await timed(() => OnnxModel.fromBytes(bytes));
  const walk = await timed(() => walkWeights(opened.value.weights(), bytes.buffer));
  return {
    fileBytes: bytes.byteLength,
    readMs: read.ms,
    floorMs: floor.ms,
    decodeMs: decoded.ms,
    discoverMs: discovered.ms,
    fromBytesMs: opened.ms,
    walkMs: walk.ms,
    weightCount: discovered.value.length,
    zeroCopyWeights: walk.value.zeroCopy,
    peakRssBytes: process.resourceUsage().maxRSS * KIB,
    checksums: { file: floor.value, weights: walk.value.sum },
  };
}

async function timed<T>(work: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

async function walkWeights(weights: readonly WeightInfo[], fileBuffer: ArrayBufferLike): Promise<{ sum: number; zeroCopy: number }> {
  let sum = 0;
  let zeroCopy = 0;
  for (const weight of weights) {
    const values = await weight.tensor.floats();
    if (values.buffer === fileBuffer) zeroCopy++;
    sum += sumValues(values);
  }
  return { sum, zeroCopy };
}

function sumValues(values: Float32Array | Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum;
}
