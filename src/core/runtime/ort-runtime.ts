/**
 * The core's handle on ONNX Runtime. Sessions live in a child process
 * (ort-child.ts) so that a crash, abort or hang in native code ends that
 * process, never the caller; the next request starts a fresh one.
 */
import { ChildProcess, fork } from 'node:child_process';
import { InvalidArgumentError, quote } from '../errors';
import { onnx } from '../proto';
import { bundledScriptPath } from '../util/bundled-script';
import { ChildReply, ChildRequest, NamedTensor, RunTimes, SessionSettings } from './protocol';
import { RuntimeCrashError, RuntimePhase, RuntimeRefusedError, RuntimeTimeoutError, nodeInRuntimeMessage } from './runtime-errors';

const CHILD_SCRIPT = bundledScriptPath(__dirname, 'ort-child.js', 'ort-child.js');
export const DEFAULT_TIMEOUT_MS = 120_000;
/** How much of the child's stderr to keep per request: its first line may say why it crashed. */
const STDERR_HEAD_CHARS = 2000;

export interface RuntimeOptions {
  /** A load, or a run, that shows no progress for this long is taken to hang and its process is stopped. */
  readonly timeoutMs?: number;
}

/** A model to load: a file (external data is found next to it) or self-contained bytes. */
export type LoadableModel =
  | { readonly name: string; readonly path: string; readonly proto?: onnx.IModelProto }
  | { readonly name: string; readonly bytes: Uint8Array; readonly proto?: onnx.IModelProto };

/** A model loaded in the runtime process. `proto` lets errors name a node that ORT names only by op. */
export interface RuntimeSession {
  readonly id: number;
  readonly name: string;
  readonly proto?: onnx.IModelProto;
  readonly process: ChildProcess;
}

export interface TimingPlan {
  readonly warmupRuns: number;
  readonly rounds: number;
}

/** A request before it is numbered; distributes over the union so each kind keeps its fields. */
type RequestBody = ChildRequest extends infer Request ? (Request extends ChildRequest ? Omit<Request, 'id'> : never) : never;

interface Work {
  readonly model: { readonly name: string; readonly proto?: onnx.IModelProto };
  readonly phase: RuntimePhase;
  readonly feeds?: readonly NamedTensor[];
  /** Sessions the request uses: they must still live when it is sent, after the requests queued before it. */
  readonly sessions?: readonly RuntimeSession[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export class OrtRuntime {
  private child?: ChildProcess;
  private stderrHead = '';
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;

  constructor(options: RuntimeOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new RangeError(`options.timeoutMs must be a positive number of milliseconds, not ${options.timeoutMs}.`);
  }

  async load(model: LoadableModel, settings: SessionSettings, signal?: AbortSignal): Promise<RuntimeSession> {
    const source = 'path' in model ? { path: model.path } : { bytes: model.bytes };
    const { reply, process } = await this.request({ kind: 'load', model: source, settings }, { model, phase: 'load', signal });
    return { id: (reply as Extract<ChildReply, { kind: 'loaded' }>).session, name: model.name, proto: model.proto, process };
  }

  /**
   * Runs each session once, in order, on the very same feed tensors (ORT's
   * vectorized kernels can change an output's last bit when an input lies
   * elsewhere in memory), and returns each session's outputs.
   */
  async run(sessions: readonly RuntimeSession[], feeds: readonly NamedTensor[], signal?: AbortSignal): Promise<NamedTensor[][]> {
    const request = { kind: 'run' as const, sessions: sessions.map((session) => session.id), feeds };
    const { reply } = await this.request(request, { model: pairName(sessions), phase: 'run', feeds, sessions, signal });
    return (reply as Extract<ChildReply, { kind: 'outputs' }>).outputs;
  }

  /**
   * The times of each session's runs, all on the same feeds: warm-up runs,
   * then rounds that run every session once, interleaved in the child.
   */
  async time(
    sessions: readonly RuntimeSession[], feeds: readonly NamedTensor[], plan: TimingPlan,
    signal?: AbortSignal, onProgress?: (done: number, total: number) => void,
  ): Promise<RunTimes[]> {
    const request = { kind: 'time' as const, sessions: sessions.map((session) => session.id), feeds, ...plan };
    const { reply } = await this.request(request, { model: pairName(sessions), phase: 'run', feeds, sessions, signal, onProgress });
    return (reply as Extract<ChildReply, { kind: 'timed' }>).times;
  }

  /** Frees the sessions' memory; sessions of a process that has ended need nothing. */
  async release(sessions: readonly RuntimeSession[]): Promise<void> {
    const live = sessions.filter((session) => session.process === this.child);
    if (live.length === 0) return;
    await this.request({ kind: 'release', sessions: live.map((session) => session.id) }, { model: { name: live[0].name }, phase: 'run' });
  }

  /** Ends the runtime process. A later request starts a new one. */
  dispose(): void {
    if (this.child) this.stop(this.child);
  }

  private checkAlive(session: RuntimeSession): void {
    if (session.process !== this.child) {
      throw new InvalidArgumentError(`The session of ${quote(session.name)} ended with its runtime process; load the model again.`);
    }
  }

  /** One request at a time: the child runs sessions one after another anyway, and timings must not overlap. */
  private request(body: RequestBody, work: Work): Promise<{ reply: ChildReply; process: ChildProcess }> {
    const result = this.queue.then(() => this.send(body, work));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private send(body: RequestBody, work: Work): Promise<{ reply: ChildReply; process: ChildProcess }> {
    work.signal?.throwIfAborted();
    work.sessions?.forEach((session) => this.checkAlive(session));
    const child = this.child ?? this.start();
    const id = this.nextId++;
    this.stderrHead = '';
    // Errors name the model at work: the request's, or the session the child said it was running.
    let current = work.model;
    const sessionModel = (session?: number) => work.sessions?.find((candidate) => candidate.id === session) ?? current;
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        child.off('message', onReply);
        child.off('close', onClose);
        work.signal?.removeEventListener('abort', onAbort);
      };
      const fail = (error: unknown, stopChild: boolean): void => {
        settle();
        if (stopChild) this.stop(child);
        reject(error);
      };
      const onReply = (reply: ChildReply): void => {
        if (reply.id !== id) return;
        if (reply.kind === 'progress') {
          timer.refresh();
          current = sessionModel(reply.session);
          work.onProgress?.(reply.done, reply.total);
          return;
        }
        settle();
        if (reply.kind === 'refused') reject(refusal(sessionModel(reply.session), work, reply.message));
        else resolve({ reply, process: child });
      };
      const onClose = (code: number | null, signal: NodeJS.Signals | null): void =>
        fail(new RuntimeCrashError(current.name, work.phase, signal, code, this.stderrHead), false);
      const onAbort = (): void => fail(work.signal!.reason, true);
      const timer = setTimeout(() => fail(new RuntimeTimeoutError(current.name, work.phase, this.timeoutMs), true), this.timeoutMs);
      child.on('message', onReply);
      child.on('close', onClose);
      work.signal?.addEventListener('abort', onAbort, { once: true });
      child.send({ ...body, id } as ChildRequest, (error) => {
        if (error) fail(new RuntimeCrashError(current.name, work.phase, null, child.exitCode, error.message), true);
      });
    });
  }

  /**
   * In VS Code process.execPath is the editor's own binary: ELECTRON_RUN_AS_NODE
   * makes it a plain Node. The parent's flags (an inspector port...) stay with the parent.
   */
  private start(): ChildProcess {
    const child = fork(CHILD_SCRIPT, [], {
      execPath: process.execPath,
      execArgv: [],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (child === this.child && this.stderrHead.length < STDERR_HEAD_CHARS) this.stderrHead += chunk;
    });
    child.on('close', () => {
      if (child === this.child) this.child = undefined;
    });
    // A process that cannot start or be signalled: 'close' follows and the pending request reports it.
    child.on('error', (error) => {
      if (child === this.child) this.stderrHead += `${error.message}\n`;
    });
    this.child = child;
    return child;
  }

  private stop(child: ChildProcess): void {
    // SIGKILL: a thread stuck in native code may never get to handle anything gentler.
    child.kill('SIGKILL');
    if (child === this.child) this.child = undefined;
  }
}

function refusal(model: Work['model'], work: Work, message: string): RuntimeRefusedError {
  const feeds = work.feeds?.map((feed) => `${feed.name}: ${feed.type}[${feed.dims.join(',')}]`).join(', ');
  return new RuntimeRefusedError(model.name, work.phase, message, nodeInRuntimeMessage(message, model.proto), feeds);
}

/** What errors call work on several models when the child does not say which one failed. */
function pairName(sessions: readonly RuntimeSession[]): Work['model'] {
  return sessions.length === 1 ? sessions[0] : { name: sessions.map((session) => session.name).join(' and ') };
}
