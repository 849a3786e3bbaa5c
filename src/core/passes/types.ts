import { OnnxModel } from '../model/onnx-model';

export type PassName = 'int8' | 'dynamic-int8' | 'float16' | 'int4' | 'prune-magnitude' | 'prune-channels' | 'sparse-storage';

export const PASS_NAMES: readonly PassName[] = ['int8', 'dynamic-int8', 'float16', 'int4', 'prune-magnitude', 'prune-channels', 'sparse-storage'];

export interface PassOptions {
  /**
   * Layer ids (`layerId`, "scope::label") or node names; every layer when
   * absent. A named layer the pass cannot change makes it throw
   * PassNotApplicableError; with every layer, such layers are listed as skipped.
   */
  readonly layers?: readonly string[];
  /** Checked between tensors; the pass then throws PassCancelledError. */
  readonly signal?: AbortSignal;
  /**
   * Where the tensors the pass computes are kept: 'disk' (scratch space) bounds
   * memory for models too large to hold; by default, on disk when the model keeps
   * its weights in external data, in memory otherwise.
   */
  readonly computedTensors?: 'memory' | 'disk';
  /** Called after each tensor with how many of the planned tensors are done. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface TensorSummary {
  readonly dataType: string;
  readonly dims: readonly number[];
}

/** One weight the pass changed. Plain data: JSON.stringify keeps all of it. */
export interface TensorChange {
  /** The weight's name, and the scope it lives in ("main", "main/If_0.then_branch"...). */
  readonly name: string;
  readonly scope: string;
  /** Ids of the layers that consume it. */
  readonly layers: readonly string[];
  /** Ids of the layers that consume what replaces it, in the result (a new node where the pass replaced the layer's). */
  readonly layersAfter: readonly string[];
  readonly before: TensorSummary;
  /** How it is stored now (the quantized values, the fp16 copy, the pruned tensor). */
  readonly after: TensorSummary;
  /** Bytes of the weight before, and of everything that replaces it (values, scales, zero points, indices). */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Signal-to-noise ratio of the stored values against the original, in dB; null when they are exactly equal. */
  readonly sqnrDb: number | null;
  /** The scheme, for example "int8 per-channel (axis 1)" or "sparse: 812 of 4096 stored". */
  readonly scheme: string;
  readonly sparsityBefore?: number;
  readonly sparsityAfter?: number;
  /** Fraction of the weight's L2 energy (sum of squares) that pruning removed. */
  readonly energyRemoved?: number;
  readonly gzipBytesBefore?: number;
  readonly gzipBytesAfter?: number;
}

export interface SkippedLayer {
  readonly layer: string;
  /** One sentence naming the node, ending with a period. */
  readonly reason: string;
}

export interface PassReport {
  readonly pass: PassName;
  /** One line for people: "int8 weight-only: 12 tensors, 1.9 MB -> 0.5 MB". */
  readonly summary: string;
  readonly tensors: readonly TensorChange[];
  readonly skipped: readonly SkippedLayer[];
  /** Sum over the changed weights: their bytes before, and the bytes of what replaced them. */
  readonly weightBytes: { readonly before: number; readonly after: number };
  /** The model's size (encoded model plus external data), before and after; counted exactly without encoding. */
  readonly modelBytes: { readonly before: number; readonly after: number };
  readonly nodes: { readonly added: number; readonly removed: number };
  /** Operator-set imports the pass had to add (never a change of an existing one). */
  readonly opsetImportsAdded: readonly { readonly domain: string; readonly version: number }[];
  /** Anything else the user should know, one sentence each. */
  readonly notes: readonly string[];
}

/**
 * A pass's result. The input model is left as it was (keep it to undo: the
 * pair is the reversible edit); the output shares every tensor the pass did
 * not change with it (OnnxModel.withProto), so holding both costs only the
 * changed tensors.
 */
export interface PassResult {
  readonly model: OnnxModel;
  readonly report: PassReport;
}
