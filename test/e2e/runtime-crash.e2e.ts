import * as assert from 'node:assert/strict';
import { Page } from 'playwright-core';
import { onnx } from '../../src/core';
import { crashingModel, hangingModel } from '../core/runtime-models';
import { DataType, encode, floatTensor, node, randomFloats, valueInfo } from '../support/model-builder';
import {
  chooseContextMenuItem, clearNotifications, layerRow, openFile, runPaletteCommand, STEP_TIMEOUT_MS, StepScreenshots, useSession,
  waitForActiveEditorText, waitForNoNotification, waitForNotification, waitForText, webviewFrame,
} from './support';

const CRASHING_MODEL = 'crashing.onnx';
const HANGING_MODEL = 'hanging.onnx';
const TIMEOUT_SECONDS = 4;
const DENSE_LAYER = 'main::dense';
const MEASURE_LATENCY = 'ONNX Lens: Measure Latency';
const MEASURING = /Measuring latency/;
const QUANTIZE_INT8 = 'Quantize This Layer (int8)';

/** The model plus a float MatMul beside it, on inputs of its own: a layer the editor can quantize. */
function withQuantizableLayer(bytes: Uint8Array): Uint8Array {
  const proto = onnx.ModelProto.decode(bytes);
  const main = proto.graph as onnx.GraphProto;
  main.node.push(node('MatMul', ['features', 'dense_weight'], ['projected'], [], 'dense'));
  main.initializer.push(floatTensor('dense_weight', [8, 8], randomFloats(64, 11)));
  main.input.push(valueInfo('features', DataType.FLOAT, [1, 8]));
  main.output.push(valueInfo('projected', DataType.FLOAT, [1, 8]));
  return encode(proto);
}

/** Runs Measure Latency and waits for its error; the progress notification must end with it, not spin on. */
async function measureLatencyFails(page: Page, error: RegExp): Promise<string> {
  await clearNotifications(page);
  await runPaletteCommand(page, MEASURE_LATENCY);
  const message = await waitForNotification(page, error, STEP_TIMEOUT_MS + TIMEOUT_SECONDS * 1000);
  await waitForNoNotification(page, MEASURING);
  return message.innerText();
}

/** The table still answers: clicking the layer selects it and the detail pane shows it. */
async function selectDenseLayer(page: Page): Promise<void> {
  const frame = webviewFrame(page);
  const row = layerRow(frame, DENSE_LAYER);
  await row.click();
  await waitForText(page, frame.locator('[data-testid=detail] h2'), /^dense MatMul · dense_weight \[8×8\] float32$/);
  assert.match((await row.getAttribute('class')) ?? '', /\bselected\b/);
}

/** Quantizing the layer from its context menu still works, and the row shows the change inline. */
async function quantizeDenseLayer(page: Page, screenshots: StepScreenshots): Promise<void> {
  const row = layerRow(webviewFrame(page), DENSE_LAYER);
  await row.click({ button: 'right' });
  await screenshots.take('layer context menu');
  await chooseContextMenuItem(page, QUANTIZE_INT8);
  await waitForText(page, row.locator('.cell.delta'), /^int8 · .* → .* \(−\d+%\) · SQNR \d+\.\d dB$/);
}

/** The extension host is alive: another ONNX Lens command answers; its text view is closed again. */
async function extensionHostAnswers(page: Page, line: RegExp): Promise<void> {
  await runPaletteCommand(page, 'ONNX Lens: Show Model as Text');
  await waitForActiveEditorText(page, line);
  await runPaletteCommand(page, 'View: Close Editor');
  // The model's editor takes the focus back once shown: Quick Open, opened before that, would lose it.
  await layerRow(webviewFrame(page), DENSE_LAYER).waitFor({ timeout: STEP_TIMEOUT_MS });
}

async function openModel(page: Page, modelName: string): Promise<void> {
  await openFile(page, modelName);
  await layerRow(webviewFrame(page), DENSE_LAYER).locator('.spark rect').first().waitFor({ timeout: STEP_TIMEOUT_MS });
}

describe('ONNX Runtime crashing or hanging on a model, in a real VS Code (code-server)', function () {
  const session = useSession({
      name: 'runtime-crash',
      files: {
        [CRASHING_MODEL]: { content: withQuantizableLayer(crashingModel()) },
        [HANGING_MODEL]: { content: withQuantizableLayer(hangingModel()) },
      },
      settings: { 'onnxLens.measure.timeoutSeconds': TIMEOUT_SECONDS, 'onnxLens.measure.runs': 3 },
    });

  it('reports a crash of ONNX Runtime, and the editor and extension keep working', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openModel(page, CRASHING_MODEL);

    const crash = new RegExp(`^ONNX Runtime crashed while running "${CRASHING_MODEL}" \\(signal SIGFPE, an arithmetic fault in native code\\)`);
    assert.match(await measureLatencyFails(page, crash), /it ran in a process of its own, which ended/);
    await screenshots.take('crash reported');

    await selectDenseLayer(page);
    await quantizeDenseLayer(page, screenshots);
    await screenshots.take('a layer quantized after the crash');

    assert.match(await measureLatencyFails(page, crash), crash, 'a second crash is reported too');
    await screenshots.take('second crash reported');
    await extensionHostAnswers(page, /= Div/);
  });

  it('stops a hanging ONNX Runtime after the configured timeout, and the editor and extension keep working', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openModel(page, HANGING_MODEL);

    const hang = new RegExp(`^ONNX Runtime did not finish running "${HANGING_MODEL}" within ${TIMEOUT_SECONDS} s; its process was stopped\\.$`);
    const started = Date.now();
    await measureLatencyFails(page, hang);
    await screenshots.take('hang stopped');
    assert.ok(Date.now() - started >= TIMEOUT_SECONDS * 1000, 'the run was given the configured time');

    await selectDenseLayer(page);
    await quantizeDenseLayer(page, screenshots);
    await screenshots.take('a layer quantized after the hang');

    await measureLatencyFails(page, hang);
    await screenshots.take('second hang stopped');
    await extensionHostAnswers(page, /= Loop/);
  });
});
