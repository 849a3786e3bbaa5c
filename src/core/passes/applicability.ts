import { OnnxModel } from '../model/onnx-model';
import { applicability } from './registry';
import { ModelRewriter } from './rewriter';
import { layerId, selectLayers } from './select';
import { PASS_NAMES, PassName } from './types';

export interface PassAvailability {
  readonly pass: PassName;
  readonly applies: boolean;
  /** Why not, in one sentence naming the node; absent when the pass applies. */
  readonly reason?: string;
  /** The weights the pass would change. */
  readonly weights: readonly string[];
}

export interface LayerPasses {
  readonly layer: string;
  readonly opType: string;
  readonly passes: readonly PassAvailability[];
}

/**
 * For each layer (all, or those named), which passes apply and why the others
 * do not: what the editor needs to enable its actions. Plain data.
 */
export function layerPasses(model: OnnxModel, layers?: readonly string[]): LayerPasses[] {
  const rewriter = new ModelRewriter(model);
  return selectLayers(rewriter.layers, layers).map(({ layer }) => ({
    layer: layerId(layer.node),
    opType: layer.node.opType,
    passes: PASS_NAMES.map((pass) => {
      const answer = applicability(pass, layer, rewriter);
      return answer.applies
        ? { pass, applies: true, weights: answer.targets.map((target) => target.weight.name) }
        : { pass, applies: false, reason: answer.reason, weights: [] };
    }),
  }));
}
