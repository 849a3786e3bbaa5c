import { FrameLocator } from 'playwright-core';

/** The ONNX Lens editor's table row of a layer, by its id ("scope::label"). */
export function layerRow(frame: FrameLocator, layerId: string) {
  return frame.locator(`.layer-table .row[data-layer-id="${layerId.replace(/["\\]/g, '\\$&')}"]`);
}
