import { OnnxModel } from '../model/onnx-model';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { InvalidArgumentError } from '../errors';
import { WeightInfo } from '../model/weights';
import { maxAbsolute } from './int8-kernel';
import { finiteOrNull } from './quantize-int8';
import { PassRun, PlannedWeight } from './run';
import { smallerSparseForm, storeSparse } from './sparse';
import { denseFloats, tensors } from './tensors';
import { PassOptions, PassResult } from './types';
import { SPARSE_CONSTANT_OPSET } from './registry';

/** Exactly one criterion. */
export interface PruneMagnitudeOptions extends PassOptions {
  /** Zero every |w| below this; with `relative`, below this fraction of the layer's max |w|. */
  readonly threshold?: number;
  readonly relative?: boolean;
  /** Zero this fraction of each layer's values, smallest magnitudes first. */
  readonly sparsity?: number;
  /** Zero this fraction of all selected values, ranked together: one threshold for every layer. */
  readonly globalSparsity?: number;
  /** Store a pruned weight as sparse (Constant sparse_value, opset 11+) where that is smaller. */
  readonly sparseStorage?: boolean;
  /** Report each tensor's gzip size before and after (default true). */
  readonly gzip?: boolean;
}

/** How many values to zero, below (and, for ties, at) a magnitude given as float32 bits. */
interface Cut {
  readonly bits: number;
  /** Values at exactly `bits` that are zeroed too, in index order (to hit an exact count). */
  ties: number;
}

const gzipAsync = promisify(gzip);
const ABS_MASK = 0x7fffffff;
const RADIX_BITS = 16;
const RADIX_MASK = (1 << RADIX_BITS) - 1;

/**
 * Unstructured magnitude pruning: sets the smallest-magnitude values of the
 * selected weights to zero, by threshold, per-layer sparsity or one global
 * sparsity. The raw size stays (zeros are stored like other values) unless
 * `sparseStorage` stores a weight sparse; the gzip size shrinks.
 */
export async function pruneMagnitude(model: OnnxModel, options: PruneMagnitudeOptions): Promise<PassResult> {
  checkCriterion(options);
  const run = new PassRun('prune-magnitude', model, options);
  const planned = run.weights();
  const values = new Map<WeightInfo, Float32Array>();
  for (const { target } of planned) values.set(target.weight, (await denseFloats(target.weight)).slice());
  const globalCut = options.globalSparsity === undefined ? undefined : cutForCount([...values.values()], Math.round(options.globalSparsity * totalLength(values)));
  for (const { target } of planned) {
    const weightValues = values.get(target.weight)!;
    await pruneWeight(run, target.weight, weightValues, globalCut ?? layerCut(weightValues, options), options);
    run.step(planned.length);
  }
  if (options.globalSparsity !== undefined) run.notes.push(globalNote(planned, options.globalSparsity));
  return run.finish();
}

function checkCriterion(options: PruneMagnitudeOptions): void {
  const given = [options.threshold, options.sparsity, options.globalSparsity].filter((value) => value !== undefined);
  if (given.length !== 1) throw new InvalidArgumentError('Give exactly one of threshold, sparsity and globalSparsity.');
  const fraction = options.sparsity ?? options.globalSparsity;
  if (fraction !== undefined && !(fraction >= 0 && fraction <= 1)) throw new InvalidArgumentError(`A sparsity is a fraction from 0 to 1, not ${fraction}.`);
  if (options.threshold !== undefined && !(options.threshold >= 0)) throw new InvalidArgumentError(`The threshold must be a number of at least 0, not ${options.threshold}.`);
}

function layerCut(values: Float32Array, options: PruneMagnitudeOptions): Cut {
  if (options.sparsity !== undefined) return cutForCount([values], Math.round(options.sparsity * values.length));
  const threshold = options.relative ? options.threshold! * maxAbsolute(values) : options.threshold!;
  return { bits: magnitudeBits(threshold), ties: 0 };
}

async function pruneWeight(run: PassRun, weight: WeightInfo, values: Float32Array, cut: Cut, options: PruneMagnitudeOptions): Promise<void> {
  const zerosBefore = countZeros(values);
  const removed = applyCut(values, cut);
  const rewriter = run.rewriter;
  const sparse = options.sparseStorage && rewriter.opset(weight.scope) >= SPARSE_CONSTANT_OPSET ? smallerSparseForm(values) : undefined;
  const dense = tensors.float32(weight.name, weight.dims, values);
  if (sparse) storeSparse(rewriter, weight, sparse);
  else rewriter.replaceWeightTensor(weight, dense);
  const withGzip = options.gzip ?? true;
  run.record(weight, {
    after: { dataType: sparse ? 'float32 (sparse)' : 'float32', dims: weight.dims },
    replacement: sparse ? sparse.bytes : [dense],
    sqnrDb: finiteOrNull(10 * Math.log10(removed.signal / removed.energy)),
    scheme: sparse ? `magnitude pruning, sparse: ${sparse.values.length} of ${values.length} values stored` : 'magnitude pruning',
    sparsityBefore: zerosBefore / values.length,
    sparsityAfter: countZeros(values) / values.length,
    energyRemoved: removed.signal > 0 ? removed.energy / removed.signal : 0,
    ...(withGzip ? { gzipBytesBefore: (await gzipAsync(await weight.tensor.rawBytes())).byteLength, gzipBytesAfter: (await gzipAsync(dense.rawData!)).byteLength } : {}),
  });
}

/** Zeros the values under the cut; returns Σw² and the Σw² it removed. */
function applyCut(values: Float32Array, cut: Cut): { signal: number; energy: number } {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let signal = 0;
  let energy = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    signal += value * value;
    const magnitude = bits[i] & ABS_MASK;
    if (magnitude < cut.bits || (magnitude === cut.bits && cut.ties > 0 && cut.ties--)) {
      energy += value * value;
      values[i] = 0;
    }
  }
  return { signal, energy };
}

/**
 * The cut that zeros exactly `count` values of all arrays together, smallest
 * magnitudes first: a two-round radix select on the float32 bit patterns of
 * |w| (which sort like the magnitudes), 16 bits a round, O(n) and no sorting.
 */
export function cutForCount(arrays: readonly Float32Array[], count: number): Cut {
  if (count <= 0) return { bits: 0, ties: 0 };
  const high = new Float64Array(1 << RADIX_BITS);
  forEachMagnitude(arrays, (magnitude) => high[magnitude >>> RADIX_BITS]++);
  const top = findBucket(high, count);
  const low = new Float64Array(1 << RADIX_BITS);
  forEachMagnitude(arrays, (magnitude) => {
    if (magnitude >>> RADIX_BITS === top.bucket) low[magnitude & RADIX_MASK]++;
  });
  const bottom = findBucket(low, top.remaining);
  // `bottom.remaining` of the values at exactly this magnitude are zeroed; those below it all are.
  return { bits: ((top.bucket << RADIX_BITS) | bottom.bucket) >>> 0, ties: bottom.remaining };
}

function findBucket(histogram: Float64Array, count: number): { bucket: number; remaining: number } {
  let below = 0;
  let bucket = 0;
  for (; bucket < histogram.length - 1 && below + histogram[bucket] < count; bucket++) below += histogram[bucket];
  return { bucket, remaining: count - below };
}

function forEachMagnitude(arrays: readonly Float32Array[], visit: (magnitude: number) => void): void {
  for (const values of arrays) {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < bits.length; i++) visit(bits[i] & ABS_MASK);
  }
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The bits of the smallest float32 magnitude that is not below `threshold`. */
function magnitudeBits(threshold: number): number {
  scratch[0] = threshold;
  return scratch[0] < threshold ? scratchBits[0] + 1 : scratchBits[0];
}

function countZeros(values: Float32Array): number {
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return zeros;
}

function totalLength(values: Map<WeightInfo, Float32Array>): number {
  return [...values.values()].reduce((total, array) => total + array.length, 0);
}

function globalNote(planned: readonly PlannedWeight[], sparsity: number): string {
  return `One magnitude threshold ranked over the ${planned.length} selected weights zeroes ${(sparsity * 100).toFixed(1)}% of their values together; layers with smaller weights lose more.`;
}
