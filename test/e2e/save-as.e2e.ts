import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { FrameLocator, Page } from 'playwright-core';
import { onnx, OnnxModel } from '../../src/core';
import { toLong } from '../../src/core/onnx/int64';
import { DataType, encode, graph, model, node, randomFloats, valueInfo } from '../support/model-builder';
import {
  chooseContextMenuItem, editorTab, explorerItem, layerRow, openFile, quickInputField, runPaletteCommand, STEP_TIMEOUT_MS, StepScreenshots,
  useSession, waitForInputValue, waitForTabDirty, waitForText, webviewFrame,
} from './support';

const MODEL_NAME = 'model.onnx';
const DATA_LOCATION = 'data/weights.bin';
const SAVED_AS = 'exported/model-int8.onnx';
const FIRST_LAYER = 'main::first';
const [INPUTS, HIDDEN, OUTPUTS] = [16, 32, 8];

/** A weight stored in the external data file at `offset`. */
function externalWeight(name: string, dims: number[], offset: number): onnx.TensorProto {
  const length = dims.reduce((product, dim) => product * dim, 1) * 4;
  return onnx.TensorProto.create({
    name, dataType: DataType.FLOAT, dims: dims.map(toLong), dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [{ key: 'location', value: DATA_LOCATION }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(length) }],
  });
}

/** x · W1 → Relu → · W2, both weights in data/weights.bin next to the model. */
function modelWithExternalData(): { model: Uint8Array; data: Uint8Array } {
  const first = randomFloats(INPUTS * HIDDEN, 1, 0.5);
  const second = randomFloats(HIDDEN * OUTPUTS, 2, 0.5);
  const data = new Uint8Array(first.byteLength + second.byteLength);
  data.set(new Uint8Array(first.buffer), 0);
  data.set(new Uint8Array(second.buffer), first.byteLength);
  const proto = model(graph({
    nodes: [node('MatMul', ['x', 'W1'], ['h'], [], 'first'), node('Relu', ['h'], ['r'], [], 'relu'), node('MatMul', ['r', 'W2'], ['y'], [], 'second')],
    inputs: [valueInfo('x', DataType.FLOAT, [1, INPUTS])], outputs: [valueInfo('y', DataType.FLOAT, [1, OUTPUTS])],
    initializers: [externalWeight('W1', [INPUTS, HIDDEN], 0), externalWeight('W2', [HIDDEN, OUTPUTS], first.byteLength)],
  }));
  return { model: encode(proto), data };
}

/** y for a fixed x, computed by ONNX Runtime in a child process from the model's own folder (where its external data is found). */
async function runInOrt(modelPath: string): Promise<number[]> {
  const script = `
    const ort = require(${JSON.stringify(require.resolve('onnxruntime-node'))});
    (async () => {
      const session = await ort.InferenceSession.create(process.argv[1]);
      const x = new ort.Tensor('float32', Float32Array.from({ length: ${INPUTS} }, (_, i) => Math.sin(i + 1)), [1, ${INPUTS}]);
      const { y } = await session.run({ x });
      process.stdout.write(JSON.stringify(Array.from(y.data)));
    })().catch((error) => { process.stderr.write(String(error)); process.exit(1); });`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, modelPath], { cwd: path.dirname(modelPath) });
  return JSON.parse(stdout) as number[];
}

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((sum, value, index) => sum + value * b[index], 0);
  const norm = (values: number[]) => Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
  return dot / (norm(a) * norm(b));
}

async function quantizeFirstLayer(page: Page, frame: FrameLocator): Promise<void> {
  const row = layerRow(frame, FIRST_LAYER);
  await row.locator('.spark rect').first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await row.click({ button: 'right' });
  await chooseContextMenuItem(page, 'Quantize This Layer (int8)');
  await waitForText(page, row.locator('.cell.delta'), /^int8 · /);
  await waitForTabDirty(page, MODEL_NAME, true);
}

/** Quick Open would rank the recently saved model-int8.onnx first for "model.onnx": the Explorer names the file exactly. */
async function openFromExplorer(page: Page, fileName: string): Promise<void> {
  await explorerItem(page, fileName).click({ timeout: STEP_TIMEOUT_MS });
  await editorTab(page, fileName).waitFor({ timeout: STEP_TIMEOUT_MS });
}

/** File: Save As… in code-server asks for the path in a quick input (the "simple" file dialog). */
async function saveAsThroughSimpleDialog(page: Page, currentPath: string, absolutePath: string): Promise<void> {
  await runPaletteCommand(page, 'File: Save As...');
  // The dialog replaces the palette in the same input and starts at the current file's path.
  await waitForInputValue(page, quickInputField(page), currentPath);
  await quickInputField(page).fill(absolutePath, { timeout: STEP_TIMEOUT_MS });
  // The dialog completes folder names as it goes: accept only once it holds exactly the path.
  await waitForInputValue(page, quickInputField(page), absolutePath);
  // Enter pressed while it was still reading the folder was lost once: accept after it lists the folder's README.txt.
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'README.txt' }).waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.locator('.quick-input-widget .monaco-button', { hasText: /^OK$/ }).click({ timeout: STEP_TIMEOUT_MS });
}

describe('Save As and Revert of an edited model with external data, in a real VS Code (code-server)', function () {
  const built = modelWithExternalData();
  const session = useSession({
    name: 'save-as',
    files: { [MODEL_NAME]: { content: built.model }, [DATA_LOCATION]: { content: built.data }, 'exported/README.txt': { content: 'Saved copies.\n' } },
  });

  it('saves the edited model into another folder, where it runs with its external data, leaving the original untouched', async function () {
    const page = session().page;
    const { workspaceDir } = session();
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    const originalPath = path.join(workspaceDir, MODEL_NAME);
    const originalOutputs = await runInOrt(originalPath);

    await openFile(page, MODEL_NAME);
    const frame = webviewFrame(page);
    await quantizeFirstLayer(page, frame);
    await screenshots.take('edited');

    const targetPath = path.join(workspaceDir, SAVED_AS);
    await saveAsThroughSimpleDialog(page, originalPath, targetPath);
    await editorTab(page, path.basename(SAVED_AS)).waitFor({ timeout: STEP_TIMEOUT_MS });
    await frame.locator('[data-testid=overview] h1').getByText(path.basename(SAVED_AS)).waitFor({ timeout: STEP_TIMEOUT_MS });
    await waitForTabDirty(page, path.basename(SAVED_AS), false);
    await screenshots.take('after save as');

    assert.ok(existsSync(targetPath), `${SAVED_AS} was written`);
    const saved = await OnnxModel.open(targetPath);
    const firstWeights = saved.layers().find((layer) => layer.node.label === 'first')?.weights ?? [];
    assert.ok(firstWeights.some((entry) => entry.viaDequantize), 'the saved copy holds the int8 edit');
    const savedOutputs = await runInOrt(targetPath);
    assert.equal(savedOutputs.length, OUTPUTS);
    assert.ok(cosine(savedOutputs, originalOutputs) > 0.99, `the copy computes what the original does, up to int8 error: ${savedOutputs} vs ${originalOutputs}`);
    assert.notDeepEqual(savedOutputs, originalOutputs, 'the copy runs the quantized layer');

    assert.deepEqual(readFileSync(originalPath), Buffer.from(built.model), 'the original model file is unchanged');
    assert.deepEqual(readFileSync(path.join(workspaceDir, DATA_LOCATION)), Buffer.from(built.data), 'the original data file is unchanged');
    assert.deepEqual(await runInOrt(originalPath), originalOutputs, 'the original still runs as before');

    await openFromExplorer(page, MODEL_NAME);
    await frame.locator('[data-testid=overview] h1').getByText(MODEL_NAME).waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('the original opened again');
    await waitForText(page, layerRow(frame, FIRST_LAYER).locator('.cell').nth(3), /^float32$/);
    await waitForTabDirty(page, MODEL_NAME, false);
  });

  it('reverts an edit: the saved state comes back, not dirty and without the delta', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openFromExplorer(page, MODEL_NAME);
    const frame = webviewFrame(page);
    await frame.locator('[data-testid=overview] h1').getByText(MODEL_NAME).waitFor({ timeout: STEP_TIMEOUT_MS });
    const weightTypeBefore = await layerRow(frame, FIRST_LAYER).locator('.cell').nth(3).innerText();
    await quantizeFirstLayer(page, frame);
    await screenshots.take('edited');

    await runPaletteCommand(page, 'File: Revert File');
    await waitForTabDirty(page, MODEL_NAME, false);
    const row = layerRow(frame, FIRST_LAYER);
    await waitForText(page, row.locator('.cell.delta'), /^$/);
    assert.equal(await frame.locator('[data-testid=model-delta]').count(), 0, 'no model-level delta after the revert');
    assert.equal(await frame.locator('[data-testid=overview] .dirty').count(), 0, 'the header does not mark the model unsaved');
    assert.equal(await row.locator('.cell').nth(3).innerText(), weightTypeBefore, 'the layer has its saved weight type again');
    await screenshots.take('reverted');
    assert.deepEqual(readFileSync(path.join(session().workspaceDir, MODEL_NAME)), Buffer.from(built.model), 'reverting leaves the file as it was');
  });
});
