import * as assert from 'node:assert/strict';
import { FrameLocator } from 'playwright-core';
import { DataType, encode, floatTensor, graph, model, node, randomFloats, valueInfo } from '../support/model-builder';
import { openFile, StepScreenshots, useSession, waitForText, webviewFrame } from './support';

const MODEL_NAME = 'five-thousand-layers.onnx';
const LAYER_COUNT = 5000;
const WIDTH = 4;
/** The table must not hold a row element per layer. */
const MAX_ROW_ELEMENTS = 200;
/** A loose sanity bound on each timed step; the figures themselves are printed. */
const SANITY_BOUND_MS = 30_000;
/** Analysing every layer's weights runs in the background; bounded loosely too. */
const ANALYSIS_BOUND_MS = 120_000;

const layerName = (index: number) => `layer_${String(index).padStart(4, '0')}`;

/** A chain of LAYER_COUNT MatMuls with 4×4 weights: large in layers, tiny in bytes, quick to analyse. */
function chainOfMatMuls(): Uint8Array {
  const activation = (index: number) => (index === 0 ? 'x' : index === LAYER_COUNT ? 'y' : `a${index}`);
  const nodes = [];
  const initializers = [];
  for (let index = 0; index < LAYER_COUNT; index++) {
    nodes.push(node('MatMul', [activation(index), `W${index}`], [activation(index + 1)], [], layerName(index)));
    initializers.push(floatTensor(`W${index}`, [WIDTH, WIDTH], randomFloats(WIDTH * WIDTH, index + 1, 0.5)));
  }
  return encode(model(graph({
    nodes, initializers, inputs: [valueInfo('x', DataType.FLOAT, [1, WIDTH])], outputs: [valueInfo('y', DataType.FLOAT, [1, WIDTH])],
  })));
}

function layerRow(frame: FrameLocator, index: number) {
  return frame.locator(`.layer-table .row[data-layer-id="main::${layerName(index)}"]`);
}

async function timed(what: string, step: () => Promise<void>, boundMs = SANITY_BOUND_MS): Promise<number> {
  const start = Date.now();
  await step();
  const elapsed = Date.now() - start;
  console.log(`      ${what}: ${(elapsed / 1000).toFixed(2)} s`);
  assert.ok(elapsed < boundMs, `${what} took ${elapsed} ms`);
  return elapsed;
}

describe(`a model of ${LAYER_COUNT} layers in a real VS Code (code-server)`, function () {
  const session = useSession({ name: 'large-table', files: { [MODEL_NAME]: { content: chainOfMatMuls() } } });

  it('lists every layer in a virtualised table that scrolls to the last layer and back', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    const frame = webviewFrame(page);
    const rowElements = frame.locator('.layer-table .row[data-layer-id]');
    const viewport = frame.locator('.layer-table .viewport');

    await timed('open to first rows', async () => {
      await openFile(page, MODEL_NAME);
      await layerRow(frame, 0).waitFor({ timeout: SANITY_BOUND_MS });
    });
    assert.equal(await frame.locator('[data-testid=layer-table]').getAttribute('aria-rowcount'), String(LAYER_COUNT));
    assert.ok(await rowElements.count() < MAX_ROW_ELEMENTS, `the table holds ${await rowElements.count()} row elements`);
    await timed('first rows to their sparklines', () => layerRow(frame, 0).locator('.spark rect').first().waitFor({ timeout: SANITY_BOUND_MS }));
    await screenshots.take('first rows');

    await timed(`analysis of all ${LAYER_COUNT} layers`, () => waitForText(page, frame.locator('[data-testid=status]'), /^$/, ANALYSIS_BOUND_MS), ANALYSIS_BOUND_MS);

    const lastRow = layerRow(frame, LAYER_COUNT - 1);
    await timed('scroll to the end', async () => {
      await viewport.evaluate((element) => { element.scrollTop = element.scrollHeight; });
      await lastRow.waitFor({ timeout: SANITY_BOUND_MS });
    });
    assert.equal(await lastRow.locator('.cell').first().innerText(), layerName(LAYER_COUNT - 1));
    assert.ok(await lastRow.isVisible(), 'the last layer is in view');
    await timed('last row to its sparkline', () => lastRow.locator('.spark rect').first().waitFor({ timeout: SANITY_BOUND_MS }));
    assert.ok(await rowElements.count() < MAX_ROW_ELEMENTS, `at the end the table holds ${await rowElements.count()} row elements`);
    assert.equal(await layerRow(frame, 0).count(), 0, 'the first row has left the DOM');
    await screenshots.take('scrolled to the end');

    await timed('scroll back to the top', async () => {
      await viewport.evaluate((element) => { element.scrollTop = 0; });
      await layerRow(frame, 0).locator('.spark rect').first().waitFor({ timeout: SANITY_BOUND_MS });
    });
    assert.equal(await lastRow.count(), 0, 'the last row has left the DOM');
    await screenshots.take('back at the top');
  });
});
