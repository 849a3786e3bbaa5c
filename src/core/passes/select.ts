import { InvalidArgumentError, quote } from '../errors';
import { Layer, NodeRef } from '../model/weights';

/** A layer's id: its scope and its node's label ("main::/encoder/MatMul", "main/If_0.then_branch::Conv_3"). */
export function layerId(node: Pick<NodeRef, 'scope' | 'label'>): string {
  return `${node.scope}::${node.label}`;
}

interface SelectedLayer {
  readonly layer: Layer;
  /** Named by the caller (not just part of "every layer"). */
  readonly explicit: boolean;
}

/** The layers a pass works on: those named by id or node label, or every layer when none are named. */
export function selectLayers(layers: readonly Layer[], wanted: readonly string[] | undefined): SelectedLayer[] {
  if (!wanted) return layers.map((layer) => ({ layer, explicit: false }));
  const selected = new Set<Layer>();
  for (const name of wanted) {
    const matches = layers.filter((layer) => layerId(layer.node) === name || layer.node.label === name);
    if (matches.length === 0) throw new InvalidArgumentError(`No layer is named ${quote(name)}: give a layer id ("scope::label") or a node name that consumes a weight.`);
    for (const layer of matches) selected.add(layer);
  }
  return layers.filter((layer) => selected.has(layer)).map((layer) => ({ layer, explicit: true }));
}
