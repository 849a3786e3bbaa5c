/**
 * A worker thread of analyzeModel: receives one tensor at a time, replies with
 * its figures. Bundled as dist/analysis-worker.js; found with bundledScriptPath.
 */
import { parentPort } from 'node:worker_threads';
import { OnnxLensError, quote } from '../errors';
import { AnalysisReply, AnalysisTask } from './analysis-protocol';
import { analyzeValues, NonFiniteValuesError } from './analyze-values';
import { realValuesOf } from './real-values';

parentPort?.on('message', (task: AnalysisTask) => {
  void analyze(task).then((reply) => parentPort!.postMessage(reply));
});

async function analyze(task: AnalysisTask): Promise<AnalysisReply> {
  try {
    const real = await realValuesOf(task);
    const figures = analyzeValues(real.values, task.sparse?.dims ?? task.tensor.dims, task.axes);
    return { taskId: task.taskId, ok: true, figures: { ...figures, dataPasses: figures.dataPasses + real.passes } };
  } catch (error) {
    const name = quote(task.tensor.name);
    if (error instanceof NonFiniteValuesError) {
      return { taskId: task.taskId, ok: false, status: 'failed', reason: `Tensor ${name} holds ${error.count} NaN or infinite values, which no statistic can summarize.` };
    }
    const reason = error instanceof OnnxLensError ? error.message : `Analyzing tensor ${name} failed: ${String(error)}.`;
    return { taskId: task.taskId, ok: false, status: 'failed', reason };
  }
}
