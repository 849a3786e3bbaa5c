/** Messages between analyzeModel and its worker threads: tensors in raw form, figures back. */
import { AnalysisAxes } from './analyze-values';
import { WeightFigures } from './report';

/** A tensor's raw little-endian bytes: a view of shared memory when the model lives in it, else a transferred copy. */
export interface TensorPayload {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  readonly bytes: Uint8Array;
  /** The bytes are a copy made to hand them over: one more pass over the data. */
  readonly copied: boolean;
}

export interface AnalysisTask {
  readonly taskId: number;
  readonly tensor: TensorPayload;
  /** For a sparse weight, `tensor` holds its non-zero values. */
  readonly sparse?: { readonly dims: readonly number[]; readonly indices: TensorPayload };
  readonly dequantization?: {
    readonly node: string;
    readonly scale: TensorPayload;
    readonly zeroPoint?: TensorPayload;
    readonly axis: number;
    readonly blockSize: number;
  };
  readonly axes: AnalysisAxes;
}

export type AnalysisReply =
  | { readonly taskId: number; readonly ok: true; readonly figures: WeightFigures }
  | { readonly taskId: number; readonly ok: false; readonly status: 'failed'; readonly reason: string };
