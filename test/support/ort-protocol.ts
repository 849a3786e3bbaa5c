/**
 * The messages between a test and ort-child.js, which runs ONNX Runtime in its
 * own process. They travel over the IPC channel with structured cloning
 * (fork's 'advanced' serialization), so typed arrays cross as they are.
 */
import type { Tensor } from 'onnxruntime-node';

/** One tensor, as fed to or fetched from a session. */
export interface PlainTensor {
  name: string;
  type: Tensor.Type;
  dims: number[];
  data: Tensor.DataType;
}

/**
 * Run each model once per feed set (one set per test_data_set_* folder), in
 * order, stopping at the first model ORT refuses. The child answers with one
 * RunReply per model it tried.
 */
export interface RunRequest {
  models: Uint8Array[];
  feedSets: PlainTensor[][];
}

export type RunReply =
  | { ok: true; outputSets: PlainTensor[][] }
  | { ok: false; error: string };
