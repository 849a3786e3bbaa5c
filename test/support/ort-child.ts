/**
 * Runs ONNX Runtime for a test in a process of its own (started by
 * ort-runner.ts), so that a native crash in ORT ends this process and not mocha.
 */
import * as ort from 'onnxruntime-node';
import { PlainTensor, RunReply, RunRequest } from './ort-protocol';

/** Errors only: the backend suite makes ORT warn a lot. */
const ERROR_LOG_LEVEL = 3;

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  logSeverityLevel: ERROR_LOG_LEVEL,
};

/** ort.Tensor's overloads want the data type to match the type name statically; PlainTensor pairs them at run time. */
const TensorFromPlain = ort.Tensor as unknown as new (type: ort.Tensor.Type, data: ort.Tensor.DataType, dims: readonly number[]) => ort.Tensor;

ort.env.logLevel = 'error';

process.on('message', (request: RunRequest) => {
  void runModels(request);
});

/**
 * All models run on the very same feed tensors: ORT's reductions (ReduceSum,
 * Einsum, LayerNormalization...) can change an output's last bit when the same
 * input lies elsewhere in memory, as vectorized code depends on alignment.
 */
async function runModels(request: RunRequest): Promise<void> {
  let feedSets: Record<string, ort.Tensor>[];
  try {
    feedSets = request.feedSets.map(toOrtFeeds);
  } catch (error) {
    process.send!({ ok: false, error: `feed: ${messageOf(error)}` } satisfies RunReply);
    return;
  }
  for (const model of request.models) {
    const reply = await runModel(model, feedSets);
    process.send!(reply);
    if (!reply.ok) return;
  }
}

async function runModel(model: Uint8Array, feedSets: Record<string, ort.Tensor>[]): Promise<RunReply> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, SESSION_OPTIONS);
  } catch (error) {
    return { ok: false, error: `load: ${messageOf(error)}` };
  }
  try {
    const outputSets: PlainTensor[][] = [];
    for (const feeds of feedSets) outputSets.push(toPlain(await session.run(feeds)));
    return { ok: true, outputSets };
  } catch (error) {
    return { ok: false, error: `run: ${messageOf(error)}` };
  } finally {
    await session.release();
  }
}

function toOrtFeeds(feeds: PlainTensor[]): Record<string, ort.Tensor> {
  return Object.fromEntries(feeds.map((feed) => [feed.name, new TensorFromPlain(feed.type, feed.data, feed.dims)]));
}

function toPlain(results: ort.InferenceSession.ReturnType): PlainTensor[] {
  return Object.entries(results).map(([name, tensor]) => ({ name, type: tensor.type, dims: [...tensor.dims], data: tensor.data }));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
