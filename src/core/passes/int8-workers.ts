import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { WeightInfo } from '../model/weights';
import { onnx } from '../proto';
import { bundledScriptPath } from '../util/bundled-script';
import { RawInt8Result } from './int8-kernel';
import { Int8Answer, Int8Job } from './quantize-worker';

const T = onnx.TensorProto.DataType;
/** Below this many values a tensor is quantized where it is: handing it over would cost more. */
const MIN_WORKER_ELEMENTS = 1 << 16;

/**
 * Quantizes, per tensor and in parallel on worker threads, the weights whose
 * raw float32 bytes sit in shared memory (a model opened with
 * openModelShared): the workers read them where they are. Returns the results
 * it computed; the caller quantizes the others itself. Without the worker
 * script (a bundle that lacks it) or a second core it computes nothing.
 */
export async function quantizeSharedInParallel(weights: readonly WeightInfo[]): Promise<Map<WeightInfo, RawInt8Result>> {
  const results = new Map<WeightInfo, RawInt8Result>();
  const jobs = (await Promise.all(weights.map(async (weight, id) => ({ id, weight, raw: await sharedRaw(weight) }))))
    .filter((job): job is Job => job.raw !== undefined)
    .sort((a, b) => b.raw.byteLength - a.raw.byteLength);
  const script = bundledScriptPath(__dirname, 'quantize-worker.js', 'quantize-worker.js');
  const threads = Math.min(availableParallelism(), jobs.length);
  if (threads < 2 || !existsSync(script)) return results;
  await Promise.all(Array.from({ length: threads }, () => drain(script, jobs, results)));
  return results;
}

async function sharedRaw(weight: WeightInfo): Promise<Uint8Array | undefined> {
  const { tensor } = weight;
  if (tensor.dataType.code !== T.FLOAT || tensor.storage !== 'raw' || weight.sparse || weight.elementCount < MIN_WORKER_ELEMENTS) return undefined;
  const raw = await tensor.rawBytes();
  return raw.buffer instanceof SharedArrayBuffer ? raw : undefined;
}

interface Job {
  readonly id: number;
  readonly weight: WeightInfo;
  readonly raw: Uint8Array;
}

/** One worker taking the largest remaining job until none is left. */
function drain(script: string, jobs: Job[], results: Map<WeightInfo, RawInt8Result>): Promise<void> {
  const worker = new Worker(script);
  let current: Job | undefined;
  return new Promise<void>((resolve, reject) => {
    const next = () => {
      current = jobs.shift();
      if (current) worker.postMessage({ id: current.id, raw: current.raw } satisfies Int8Job);
      else void worker.terminate().then(() => resolve());
    };
    worker.on('message', (answer: Int8Answer) => {
      results.set(current!.weight, { values: answer.values, scale: answer.scale, sums: { signal: answer.signal, noise: answer.noise } });
      next();
    });
    worker.on('error', (error) => void worker.terminate().then(() => reject(error)));
    next();
  });
}
