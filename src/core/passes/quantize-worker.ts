/**
 * Worker thread for whole-model int8: quantizes one tensor's raw float32
 * bytes (a view of shared memory, so nothing is copied to get here) and sends
 * the int8 values back by transfer. Started by int8-workers.ts.
 */
import { parentPort } from 'node:worker_threads';
import { quantizeRawInt8PerTensor } from './int8-kernel';

export interface Int8Job {
  readonly id: number;
  readonly raw: Uint8Array;
}

export interface Int8Answer {
  readonly id: number;
  readonly values: Int8Array;
  readonly scale: number;
  readonly signal: number;
  readonly noise: number;
}

parentPort?.on('message', (job: Int8Job) => {
  const { values, scale, sums } = quantizeRawInt8PerTensor(job.raw);
  const answer: Int8Answer = { id: job.id, values, scale, signal: sums.signal, noise: sums.noise };
  parentPort!.postMessage(answer, [values.buffer as ArrayBuffer]);
});
