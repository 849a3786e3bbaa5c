/**
 * Everything opening a model triggers for a user, run in one call over
 * untrusted bytes: decoding, the overview, the layer table, weight discovery,
 * every weight's values, the text view, and each weight's analysis figures
 * (the synchronous computation the analysis workers run, here in-thread).
 */
import { ExternalDataReader, OnnxLensError, OnnxModel } from '../../src/core';
import { reasonToSkip, taskFor } from '../../src/core/analysis/analyze-model';
import { analyzeValues } from '../../src/core/analysis/analyze-values';
import { realValuesOf } from '../../src/core/analysis/real-values';
import { WeightInfo } from '../../src/core/model/weights';
import { modelToText } from '../../src/core/model/text-format';

export interface OpenReport {
  readonly model: OnnxModel;
  readonly textLines: number;
  /** Typed errors met reading or analyzing single weights; the others were still read, as the editor does. */
  readonly weightErrors: OnnxLensError[];
}

/**
 * Opens `bytes` the whole way. A typed error that stops the open is thrown;
 * typed errors of single weights are collected; any other error is thrown as is.
 */
export async function openFully(bytes: Uint8Array, externalData?: ExternalDataReader): Promise<OpenReport> {
  const model = OnnxModel.fromBytes(bytes, { externalData });
  model.overview();
  model.layers();
  const textLines = modelToText(model.proto).length;
  const weightErrors: OnnxLensError[] = [];
  for (const weight of model.weights()) {
    try {
      await readAndAnalyze(weight);
    } catch (error) {
      if (!(error instanceof OnnxLensError)) throw error;
      weightErrors.push(error);
    }
  }
  return { model, textLines, weightErrors };
}

async function readAndAnalyze(weight: WeightInfo): Promise<void> {
  await weight.tensor.values();
  if (weight.tensor.dataType.bits > 0) await weight.tensor.floats();
  if (reasonToSkip(weight) !== undefined) return;
  const task = await taskFor(weight, 0, []);
  const real = await realValuesOf(task);
  analyzeValues(real.values, task.sparse?.dims ?? task.tensor.dims, task.axes);
}
