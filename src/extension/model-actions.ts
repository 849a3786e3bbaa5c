import * as vscode from 'vscode';
import type { LayerAction } from '../shared/protocol';

export type ModelActionKind = 'quantize' | 'prune' | 'measure-latency' | 'compare-saved';

/** Whole-model actions: editor toolbar, Explorer right-click and palette. */
export const MODEL_ACTIONS: readonly { kind: ModelActionKind; command: string; title: string }[] = [
  { kind: 'quantize', command: 'onnxLens.model.quantize', title: 'Quantize Model…' },
  { kind: 'prune', command: 'onnxLens.model.prune', title: 'Prune Model…' },
  { kind: 'measure-latency', command: 'onnxLens.model.measureLatency', title: 'Measure Latency' },
  { kind: 'compare-saved', command: 'onnxLens.model.compareWithSaved', title: 'Compare with Saved File' },
];

export interface ModelPassChoice {
  readonly action: Exclude<LayerAction, 'measure'>;
  readonly value?: number;
  /** Prune: one threshold ranked over all layers rather than a sparsity per layer. */
  readonly global?: boolean;
}

/** Asks how to quantize the whole model; undefined when the user cancels. */
export async function pickQuantization(): Promise<ModelPassChoice | undefined> {
  const picked = await vscode.window.showQuickPick([
    { label: 'int8 weight-only', description: 'per output channel, DequantizeLinear', action: 'quantize-int8' as const },
    { label: 'Dynamic int8', description: 'MatMulInteger / ConvInteger, as ONNX Runtime runs fast', action: 'quantize-dynamic' as const },
    { label: 'float16 weights', description: 'stored fp16, Cast back to float', action: 'quantize-fp16' as const },
    { label: 'int4 block-wise', description: 'MatMulNBits, block 32', action: 'quantize-int4' as const },
  ], { placeHolder: 'Quantize every layer that can be' });
  return picked && { action: picked.action };
}

/** Asks how to prune the whole model and by how much; undefined when the user cancels. */
export async function pickPruning(): Promise<ModelPassChoice | undefined> {
  // Two steps: the user may look at the table between them without losing the first answer.
  const picked = await vscode.window.showQuickPick([
    { label: 'Global sparsity', description: 'one magnitude threshold ranked over every layer', action: 'prune-sparsity' as const, global: true, unit: 'percent' },
    { label: 'Sparsity per layer', description: 'the same share of each layer', action: 'prune-sparsity' as const, global: false, unit: 'percent' },
    { label: 'Below a threshold', description: 'zero every |w| below a value', action: 'prune-threshold' as const, global: false, unit: 'value' },
    { label: 'Output channels', description: 'remove the weakest channels of Conv and Gemm chains', action: 'prune-channels' as const, global: false, unit: 'percent' },
  ], { placeHolder: 'Prune every layer that can be', ignoreFocusOut: true });
  if (!picked) return undefined;
  const isPercent = picked.unit === 'percent';
  const text = await vscode.window.showInputBox({
    prompt: isPercent ? 'How much, in percent' : 'Threshold on |w|',
    value: isPercent ? '50' : '0.001',
    ignoreFocusOut: true,
    validateInput: (input) => {
      const value = Number(input);
      const valid = Number.isFinite(value) && (isPercent ? value > 0 && value < 100 : value >= 0);
      return valid ? undefined : isPercent ? 'Enter a percentage between 0 and 100.' : 'Enter a non-negative number.';
    },
  });
  if (text === undefined) return undefined;
  return { action: picked.action, value: isPercent ? Number(text) / 100 : Number(text), global: picked.global };
}
