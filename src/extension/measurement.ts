import * as vscode from 'vscode';
import { compareModels, ComparisonReport, OnnxModel, OrtRuntime } from '../core';
import type { Delta } from '../shared/protocol';
import { UserFacingError } from './user-errors';

/** The measurement settings (onnxLens.measure.*). */
export function measureSettings() {
  const config = vscode.workspace.getConfiguration('onnxLens.measure');
  return {
    rounds: config.get<number>('runs', 50),
    threads: config.get<number>('threads', 1),
    timeoutMs: config.get<number>('timeoutSeconds', 120) * 1000,
    shapes: config.get<Record<string, string>>('defaultShapes', {}),
  };
}

/** Running a model executes native code on untrusted input: only in trusted workspaces. */
export function checkMayRunModels(): void {
  if (!vscode.workspace.isTrusted) {
    throw new UserFacingError('ONNX Lens runs models in ONNX Runtime only in a trusted workspace: trust this folder to measure latency and fidelity.');
  }
}

/**
 * Compares two versions of a model in ONNX Runtime (in a child process, so a
 * crash there cannot take the editor down): size, output fidelity and latency.
 */
export async function measureChange(before: OnnxModel, after: OnnxModel, signal: AbortSignal, report: (message: string) => void): Promise<ComparisonReport> {
  const settings = measureSettings();
  const runtime = new OrtRuntime({ timeoutMs: settings.timeoutMs });
  try {
    return await compareModels(runtime, { name: 'before', model: before }, { name: 'after', model: after }, {
      rounds: settings.rounds, threads: settings.threads, signal,
      inputs: { shapes: parseShapes(settings.shapes) },
      onProgress: (progress) => report(`${progress.stage} ${progress.done}/${progress.total}`),
    });
  } finally {
    runtime.dispose();
  }
}

/** Settings give shapes as "1,3,224,224" per input name. */
function parseShapes(shapes: Record<string, string>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(shapes).map(([name, dims]) => [name, dims.split(',').map((dim) => Number(dim.trim()))]));
}

/** The model-level delta the header shows, from a comparison. */
export function deltaOfComparison(label: string, comparison: ComparisonReport): Delta {
  const comparable = comparison.outputs.filter((output) => !output.incomparable);
  const latency = comparison.latency?.change;
  return {
    label,
    bytesBefore: comparison.size.before.total.raw,
    bytesAfter: comparison.size.after.total.raw,
    gzipBefore: comparison.size.before.total.gzip,
    gzipAfter: comparison.size.after.total.gzip,
    latency: latency && { ratio: 1 + latency.change, low: 1 + latency.low, high: 1 + latency.high, withinNoise: latency.verdict === 'within noise' },
    fidelity: comparable.length > 0 ? {
      cosine: Math.min(...comparable.map((output) => output.cosineSimilarity)),
      maxAbsError: Math.max(...comparable.map((output) => output.maxAbsoluteError)),
    } : undefined,
  };
}
