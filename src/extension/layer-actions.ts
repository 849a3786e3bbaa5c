import {
  convertFloat16, Layer, layerPasses, OnnxModel, PassName, PassResult, pruneChannels, pruneMagnitude,
  quantizeDynamicInt8, quantizeInt4, quantizeInt8,
} from '../core';
import type { ActionAvailability, Delta, LayerAction } from '../shared/protocol';
import { layerId } from './model-summary';
import { UserFacingError } from './user-errors';

type PassAction = Exclude<LayerAction, 'measure'>;

const PASS_OF_ACTION: Record<PassAction, PassName> = {
  'quantize-int8': 'int8',
  'quantize-dynamic': 'dynamic-int8',
  'quantize-fp16': 'float16',
  'quantize-int4': 'int4',
  'prune-threshold': 'prune-magnitude',
  'prune-sparsity': 'prune-magnitude',
  'prune-channels': 'prune-channels',
};

export const ACTION_LABELS: Record<LayerAction, string> = {
  'quantize-int8': 'int8',
  'quantize-dynamic': 'dynamic int8',
  'quantize-fp16': 'float16',
  'quantize-int4': 'int4',
  'prune-threshold': 'pruned below threshold',
  'prune-sparsity': 'pruned',
  'prune-channels': 'channels pruned',
  measure: 'measured',
};

/** Which actions apply to each layer, and why the others do not: one registry query for the whole model. */
export function actionAvailability(model: OnnxModel): Map<string, ActionAvailability[]> {
  const byLayer = new Map<string, ActionAvailability[]>();
  for (const entry of layerPasses(model)) {
    const passes = new Map(entry.passes.map((pass) => [pass.pass, pass]));
    byLayer.set(entry.layer, (Object.keys(PASS_OF_ACTION) as PassAction[]).map((action) => {
      const pass = passes.get(PASS_OF_ACTION[action]);
      return { action, applicable: pass?.applies ?? false, reason: pass?.reason };
    }));
  }
  return byLayer;
}

/** Runs one pass on the given layers (all layers when none are given). */
export function runPass(model: OnnxModel, action: PassAction, value: number | undefined, layers: string[] | undefined, signal: AbortSignal): Promise<PassResult> {
  const options = { layers, signal };
  switch (action) {
    case 'quantize-int8': return quantizeInt8(model, options);
    case 'quantize-dynamic': return quantizeDynamicInt8(model, options);
    case 'quantize-fp16': return convertFloat16(model, options);
    case 'quantize-int4': return quantizeInt4(model, options);
    case 'prune-threshold': return pruneMagnitude(model, { ...options, threshold: required(value, 'a threshold') });
    case 'prune-sparsity': return pruneMagnitude(model, { ...options, sparsity: required(value, 'a sparsity') });
    case 'prune-channels': return pruneChannels(model, { ...options, fraction: required(value, 'a fraction of channels') });
  }
}

export function applyLayerAction(model: OnnxModel, layer: Layer, action: PassAction, value: number | undefined, signal: AbortSignal): Promise<PassResult> {
  return runPass(model, action, value, [layerId(layer)], signal);
}

/** The inline delta of a pass on the layers it changed. */
export function layerDeltas(result: PassResult, action: LayerAction): { layerId: string; delta: Delta }[] {
  const byLayer = new Map<string, { bytesBefore: number; bytesAfter: number; gzipBefore: number; gzipAfter: number; sqnr: number | null; gzip: boolean }>();
  for (const change of result.report.tensors) {
    for (const id of change.layersAfter) {
      const entry = byLayer.get(id) ?? { bytesBefore: 0, bytesAfter: 0, gzipBefore: 0, gzipAfter: 0, sqnr: null, gzip: true };
      entry.bytesBefore += change.bytesBefore;
      entry.bytesAfter += change.bytesAfter;
      entry.gzip &&= change.gzipBytesBefore !== undefined && change.gzipBytesAfter !== undefined;
      entry.gzipBefore += change.gzipBytesBefore ?? 0;
      entry.gzipAfter += change.gzipBytesAfter ?? 0;
      // A layer's SQNR is its worst tensor's.
      if (change.sqnrDb !== null) entry.sqnr = entry.sqnr === null ? change.sqnrDb : Math.min(entry.sqnr, change.sqnrDb);
      byLayer.set(id, entry);
    }
  }
  return [...byLayer].map(([id, entry]) => ({
    layerId: id,
    delta: {
      label: ACTION_LABELS[action], bytesBefore: entry.bytesBefore, bytesAfter: entry.bytesAfter, sqnr: entry.sqnr,
      ...(entry.gzip ? { gzipBefore: entry.gzipBefore, gzipAfter: entry.gzipAfter } : {}),
    },
  }));
}

function required(value: number | undefined, what: string): number {
  if (value === undefined) throw new UserFacingError(`This action needs ${what}.`);
  return value;
}
