import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { OnnxModel } from '../../src/core';
import {
  chooseContextMenuItem, editorTab, layerRow, openFile, REPO_ROOT, runPaletteCommand, STEP_TIMEOUT_MS, StepScreenshots, useSession,
  waitForBackups, waitForTabDirty, waitForText, webviewFrame,
} from './support';

/** The model of custom-editor.e2e.ts: a small trained Gemm network (openwakeword). */
const MODEL_NAME = 'hello_deepa.onnx';
const MODEL_SOURCE = path.join(REPO_ROOT, 'node_modules', 'openwakeword-js', 'models', MODEL_NAME);
const FIRST_LAYER = 'main::/layer1/Gemm';
const TYPE_COLUMN = 3;

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

describe('unsaved edits across a reload of VS Code (hot exit), in a real VS Code (code-server)', function () {
  const session = useSession({
      name: 'hot-exit',
      files: { [MODEL_NAME]: { copyFrom: MODEL_SOURCE } },
      // In a browser VS Code saves after a second by default, which would leave nothing to back up.
      settings: { 'files.hotExit': 'onExitAndWindowClose', 'files.autoSave': 'off' },
    });

  it('backs up a quantized layer, restores it dirty after a reload, and saves it only when asked', async function () {
    const page = session().page;
    const modelPath = path.join(session().workspaceDir, MODEL_NAME);
    const originalHash = sha256(modelPath);
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openFile(page, MODEL_NAME);
    let row = layerRow(webviewFrame(page), FIRST_LAYER);
    await row.locator('.spark rect').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await row.locator('.cell').nth(TYPE_COLUMN).innerText(), 'float32');

    await row.click({ button: 'right' });
    await chooseContextMenuItem(page, 'Quantize This Layer (int8)');
    await waitForText(page, row.locator('.cell.delta'), /^int8 · /);
    await waitForTabDirty(page, MODEL_NAME, true);
    await screenshots.take('layer quantized, not saved');

    const backups = await waitForBackups(session().codeServer.stateDir, (file) => file.split(path.sep).includes('Backups'));
    await screenshots.take('backup written');
    assert.equal(sha256(modelPath), originalHash, 'backing up left the model file alone');

    // VS Code's own reload runs its shutdown (which records the open editors and their backups) before the page goes.
    await runPaletteCommand(page, 'Developer: Reload Window');
    await page.waitForEvent('load', { timeout: STEP_TIMEOUT_MS });
    await page.locator('.monaco-workbench').waitFor({ timeout: STEP_TIMEOUT_MS });
    await editorTab(page, MODEL_NAME).waitFor({ timeout: STEP_TIMEOUT_MS });
    row = layerRow(webviewFrame(page), FIRST_LAYER);
    await waitForText(page, row.locator('.cell').nth(TYPE_COLUMN), /^int8$/);
    await waitForTabDirty(page, MODEL_NAME, true);
    await screenshots.take('restored after reload, still dirty');
    assert.equal(sha256(modelPath), originalHash, `the model file is untouched until saved (backups: ${backups.join(', ')})`);

    await webviewFrame(page).locator('.layer-table .viewport').focus();
    await page.keyboard.press('Control+S');
    await waitForTabDirty(page, MODEL_NAME, false);
    await screenshots.take('saved');

    assert.notEqual(sha256(modelPath), originalHash, 'saving wrote the restored edit');
    const saved = OnnxModel.fromBytes(readFileSync(modelPath));
    assert.ok(saved.layers().some((layer) => layer.node.label === '/layer1/Gemm' && layer.weights.some((entry) => entry.viaDequantize)),
      'the saved model feeds /layer1/Gemm from a DequantizeLinear');
    const ortSession = await ort.InferenceSession.create(modelPath);
    const outputs = await ortSession.run({ [ortSession.inputNames[0]]: new ort.Tensor('float32', new Float32Array(25 * 96).fill(0.1), [1, 25, 96]) });
    assert.deepEqual(outputs[ortSession.outputNames[0]].dims, [1, 1]);
    await ortSession.release();
  });
});
