/**
 * The messages between the core and ort-child.ts, which runs ONNX Runtime in a
 * process of its own. They travel over the IPC channel with structured cloning
 * (fork's 'advanced' serialization), so typed arrays cross as they are. Nothing
 * here imports onnxruntime-node: only the child does.
 */

/** Element types onnxruntime-node can feed and fetch, by its names. */
export type ElementType =
  | 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16'
  | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'string';

/** float16 travels as bit patterns (Uint16Array), bool as Uint8Array, 64-bit integers as bigint arrays. */
export type TensorData =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[];

/** One tensor fed to or fetched from a session. */
export interface NamedTensor {
  readonly name: string;
  readonly type: ElementType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

/** One session's timed runs, in order. */
export interface RunTimes {
  /** Wall-clock milliseconds: the latency a caller sees. */
  readonly wallMs: number[];
  /** CPU milliseconds the runtime process spent: below the wall time when the run waited for a CPU. */
  readonly cpuMs: number[];
}

export interface SessionSettings {
  /** Threads ONNX Runtime uses inside one operator. */
  readonly intraOpThreads: number;
}

export type ChildRequest =
  | { readonly kind: 'load'; readonly id: number; readonly model: { readonly path: string } | { readonly bytes: Uint8Array }; readonly settings: SessionSettings }
  /** Each session in turn on the very same feed tensors, so that identical models give identical outputs. */
  | { readonly kind: 'run'; readonly id: number; readonly sessions: readonly number[]; readonly feeds: readonly NamedTensor[] }
  /** Warm-up runs, then rounds that run every session once, in an order that alternates between rounds. */
  | { readonly kind: 'time'; readonly id: number; readonly sessions: readonly number[]; readonly feeds: readonly NamedTensor[]; readonly warmupRuns: number; readonly rounds: number }
  | { readonly kind: 'release'; readonly id: number; readonly sessions: readonly number[] };

export type ChildReply =
  | { readonly id: number; readonly kind: 'loaded'; readonly session: number }
  /** One output list per session, in the order of the request. */
  | { readonly id: number; readonly kind: 'outputs'; readonly outputs: NamedTensor[][] }
  /** One entry per session, in the order of the request. */
  | { readonly id: number; readonly kind: 'timed'; readonly times: RunTimes[] }
  | { readonly id: number; readonly kind: 'released' }
  /**
   * The work is alive: sent after each warm-up run and round of a 'time'
   * request, and before each session of a 'run' request, naming that session.
   */
  | { readonly id: number; readonly kind: 'progress'; readonly done: number; readonly total: number; readonly session?: number }
  /** ONNX Runtime refused the request, or the named session's part of it; `message` is its own. */
  | { readonly id: number; readonly kind: 'refused'; readonly message: string; readonly session?: number };
