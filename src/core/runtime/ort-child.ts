/**
 * The child process that runs ONNX Runtime for the core (started by
 * ort-runtime.ts). It is the only module that imports onnxruntime-node, so a
 * crash, abort or hang in native code ends this process and never its caller.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { ChildReply, ChildRequest, NamedTensor, RunTimes, SessionSettings } from './protocol';

/** Errors only: the message of a refusal already carries what ORT logs. */
const ERROR_LOG_LEVEL = 3;

/** ort.Tensor's overloads want the data type to match the type name statically; NamedTensor pairs them at run time. */
const TensorOf = ort.Tensor as unknown as new (type: ort.Tensor.Type, data: ort.Tensor.DataType, dims: readonly number[]) => ort.Tensor;

const sessions = new Map<number, ort.InferenceSession>();
let nextSession = 1;

/** A session's run failed: the caller learns which model of the request it was. */
class SessionRefusal extends Error {
  constructor(readonly session: number, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

ort.env.logLevel = 'error';
process.on('message', (request: ChildRequest) => {
  void answer(request);
});
// The caller went away: nothing is left to measure for.
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group; the caller decides when this process ends.
process.on('SIGINT', () => undefined);

async function answer(request: ChildRequest): Promise<void> {
  try {
    reply(await handle(request));
  } catch (error) {
    const session = error instanceof SessionRefusal ? error.session : undefined;
    reply({ id: request.id, kind: 'refused', message: error instanceof Error ? error.message : String(error), session });
  }
}

function reply(message: ChildReply): void {
  process.send!(message);
}

async function handle(request: ChildRequest): Promise<ChildReply> {
  switch (request.kind) {
    case 'load': return { id: request.id, kind: 'loaded', session: await load(request.model, request.settings) };
    case 'run': return { id: request.id, kind: 'outputs', outputs: await runEach(request) };
    case 'time': return { id: request.id, kind: 'timed', times: await time(request) };
    case 'release':
      await release(request.sessions);
      return { id: request.id, kind: 'released' };
  }
}

async function load(model: { path: string } | { bytes: Uint8Array }, settings: SessionSettings): Promise<number> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: ERROR_LOG_LEVEL,
  };
  const session = 'path' in model ? await ort.InferenceSession.create(model.path, options) : await ort.InferenceSession.create(model.bytes, options);
  sessions.set(nextSession, session);
  return nextSession++;
}

function sessionFor(id: number): ort.InferenceSession {
  const session = sessions.get(id);
  if (!session) throw new Error(`There is no session ${id} in the runtime process.`);
  return session;
}

async function runEach(request: Extract<ChildRequest, { kind: 'run' }>): Promise<NamedTensor[][]> {
  const feeds = toOrt(request.feeds);
  const outputs: NamedTensor[][] = [];
  for (const [index, id] of request.sessions.entries()) {
    reply({ id: request.id, kind: 'progress', done: index, total: request.sessions.length, session: id });
    try {
      outputs.push(fetched(await sessionFor(id).run(feeds)));
    } catch (error) {
      throw new SessionRefusal(id, error);
    }
  }
  return outputs;
}

/**
 * Every session runs on the very same feed tensors, once per warm-up run and
 * once per round; odd rounds run the sessions in reverse order so that no
 * session always runs right after another (caches, clock ramps).
 */
async function time(request: Extract<ChildRequest, { kind: 'time' }>): Promise<RunTimes[]> {
  const timed = request.sessions.map(sessionFor);
  const feeds = toOrt(request.feeds);
  const total = request.warmupRuns + request.rounds;
  const times = timed.map((): RunTimes => ({ wallMs: [], cpuMs: [] }));
  for (let step = 0; step < total; step++) {
    const order = step % 2 === 0 ? [...timed.keys()] : [...timed.keys()].reverse();
    for (const index of order) {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await timed[index].run(feeds);
      const wallMs = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      if (step < request.warmupRuns) continue;
      times[index].wallMs.push(wallMs);
      times[index].cpuMs.push((cpu.user + cpu.system) / 1000);
    }
    reply({ id: request.id, kind: 'progress', done: step + 1, total });
  }
  return times;
}

async function release(ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    await sessions.get(id)?.release();
    sessions.delete(id);
  }
}

function toOrt(feeds: readonly NamedTensor[]): Record<string, ort.Tensor> {
  return Object.fromEntries(feeds.map((feed) => [feed.name, new TensorOf(feed.type, feed.data, feed.dims)]));
}

function fetched(results: ort.InferenceSession.ReturnType): NamedTensor[] {
  return Object.entries(results).map(([name, value]) => {
    const tensor = value as ort.Tensor;
    return { name, type: tensor.type as NamedTensor['type'], dims: [...tensor.dims], data: tensor.data as NamedTensor['data'] };
  });
}
