import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { OnnxModel } from '../../src/core';
import {
  chooseContextMenuItem, layerRow, openFile, REPO_ROOT, STEP_TIMEOUT_MS, StepScreenshots, useSession, waitForTabDirty, waitForText,
  webviewFrame,
} from './support';

/** A small trained Gemm network (openwakeword): every layer can be quantized. */
const MODEL_NAME = 'hello_deepa.onnx';
const MODEL_SOURCE = path.join(REPO_ROOT, 'node_modules', 'openwakeword-js', 'models', MODEL_NAME);
const FIRST_LAYER = 'main::/layer1/Gemm';

describe('the ONNX Lens editor in a real VS Code (code-server)', function () {
  const session = useSession({ name: 'custom-editor', files: { [MODEL_NAME]: { copyFrom: MODEL_SOURCE } } });

  it('opens a model, quantizes a layer from its context menu, undoes, redoes and saves', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openFile(page, MODEL_NAME);
    const frame = webviewFrame(page);

    await frame.locator('[data-testid=overview]').getByText('pytorch').waitFor({ timeout: STEP_TIMEOUT_MS });
    const row = layerRow(frame, FIRST_LAYER);
    await row.locator('.spark rect').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.ok(await frame.locator('.layer-table .row[data-layer-id]').count() >= 3, 'the table lists the Gemm layers');
    assert.match(await row.locator('.cell').nth(9).innerText(), /^\d+\.\d dB$/, 'int8 SQNR column');
    await frame.locator('[data-testid=histogram] rect').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('editor with layers and histograms');

    await row.click({ button: 'right' });
    await screenshots.take('layer context menu');
    await chooseContextMenuItem(page, 'Quantize This Layer (int8)');
    const delta = row.locator('.cell.delta');
    await waitForText(page, delta, /^int8 · .* → .* \(−\d+%\) · SQNR \d+\.\d dB$/);
    await waitForTabDirty(page, MODEL_NAME, true);
    await screenshots.take('inline delta after quantizing');

    await frame.locator('.layer-table .viewport').focus();
    await page.keyboard.press('Control+Z');
    await waitForTabDirty(page, MODEL_NAME, false);
    await waitForText(page, delta, /^$/);
    await screenshots.take('after undo');

    await page.keyboard.press('Control+Shift+Z');
    await waitForTabDirty(page, MODEL_NAME, true);
    await waitForText(page, delta, /^int8 · /);
    await screenshots.take('after redo');

    await page.keyboard.press('Control+S');
    await waitForTabDirty(page, MODEL_NAME, false);
    await screenshots.take('after save');

    const savedPath = path.join(session().workspaceDir, MODEL_NAME);
    const saved = OnnxModel.fromBytes(readFileSync(savedPath));
    assert.ok(saved.layers().some((layer) => layer.node.label === '/layer1/Gemm' && layer.weights.some((entry) => entry.viaDequantize)),
      'the saved model feeds /layer1/Gemm from a DequantizeLinear');
    const ortSession = await ort.InferenceSession.create(savedPath);
    const inputName = ortSession.inputNames[0];
    const outputs = await ortSession.run({ [inputName]: new ort.Tensor('float32', new Float32Array(25 * 96).fill(0.1), [1, 25, 96]) });
    assert.deepEqual(outputs[ortSession.outputNames[0]].dims, [1, 1]);
    await ortSession.release();
  });
});
