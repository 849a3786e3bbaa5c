import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { FrameLocator, Page } from 'playwright-core';
import {
  chooseContextMenuItem, notificationToast, openFile, paletteListing, pickQuickInputItem, pressNotificationButton, quickInputField,
  REPO_ROOT, rightClickExplorerItem, runEditorTitleMenuItem, runPaletteCommand, STEP_TIMEOUT_MS, StepScreenshots, useSession,
  waitForInputValue, waitForTabDirty, waitForText, webviewFrame,
} from './support';

/** A small trained Gemm network (openwakeword): every layer can be quantized. */
const MODEL_NAME = 'hello_deepa.onnx';
const MODEL_SOURCE = path.join(REPO_ROOT, 'node_modules', 'openwakeword-js', 'models', MODEL_NAME);

const ALWAYS_LISTED = 'ONNX Lens: Inspect Model (Text Report)';
const MODEL_COMMANDS = ['Quantize Model…', 'Prune Model…', 'Measure Latency', 'Compare with Saved File'].map((title) => `ONNX Lens: ${title}`);
const LAYER_COMMANDS = ['Quantize This Layer (int8)', 'Quantize This Layer (dynamic int8)', 'Prune to Sparsity…', "Measure This Layer's Effect"]
  .map((title) => `ONNX Lens: ${title}`);

/** The header's model-level delta once it has been measured, parsed. */
interface MeasuredDelta {
  text: string;
  sizeChangePercent: number;
  gzipChangePercent: number;
  latency: { ratio: number; low: number; high: number };
  cosine: number;
  maxError: number;
}

const MEASURED_DELTA = new RegExp([
  /Size \S+ \S+ → \S+ \S+ \((?<size>[+−]\d+)%\)/.source,
  /gzip \S+ \S+ → \S+ \S+ \((?<gzip>[+−]\d+)%\)/.source,
  /Latency (?<ratio>[+−]\d+)% \((?<low>[+−]\d+)%…(?<high>[+−]\d+)%\)(, within noise)?/.source,
  /Fidelity cosine (?<cosine>[\d.]+), max error (?<error>[\d.e+-]+)/.source,
].join(' · '));

function signed(text: string): number {
  return Number(text.replace('−', '-'));
}

async function measuredDelta(page: Page, frame: FrameLocator, label: RegExp): Promise<MeasuredDelta> {
  const element = frame.locator('[data-testid=model-delta]');
  await waitForText(page, element, new RegExp(`${label.source}.*Fidelity cosine`), 90_000);
  const text = await element.innerText();
  const groups = MEASURED_DELTA.exec(text)?.groups;
  assert.ok(groups, `the header's delta reads as size, gzip, latency and fidelity: ${text}`);
  return {
    text,
    sizeChangePercent: signed(groups.size),
    gzipChangePercent: signed(groups.gzip),
    latency: { ratio: signed(groups.ratio), low: signed(groups.low), high: signed(groups.high) },
    cosine: Number(groups.cosine),
    maxError: Number(groups.error),
  };
}

function assertPlausibleInt8(delta: MeasuredDelta): void {
  assert.ok(delta.sizeChangePercent <= -60, `int8 weights shrink the file by well over half: ${delta.text}`);
  assert.ok(delta.gzipChangePercent < 0, `and its gzip size: ${delta.text}`);
  const { ratio, low, high } = delta.latency;
  assert.ok(low <= ratio && ratio <= high, `the latency change lies inside its interval: ${delta.text}`);
  assert.ok(delta.cosine > 0.99 && delta.cosine <= 1, `the outputs stay close (cosine): ${delta.text}`);
  assert.ok(delta.maxError > 0 && delta.maxError < 0.1, `a small but real output error: ${delta.text}`);
}

/** Processes of ONNX Runtime children that this code-server's extension host started. */
function ortChildren(stateDir: string): string[] {
  const lines = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  return lines.filter((line) => line.includes(stateDir) && line.includes('ort-child'));
}

async function waitForNoOrtChildren(page: Page, stateDir: string): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (ortChildren(stateDir).length > 0) {
    if (Date.now() > deadline) assert.fail(`ONNX Runtime children still run after the cancel: ${ortChildren(stateDir).join('; ')}`);
    await page.waitForTimeout(250);
  }
}

describe('model-level actions in a real VS Code (code-server)', function () {
  const session = useSession({
      name: 'model-actions', files: { [MODEL_NAME]: { copyFrom: MODEL_SOURCE }, 'notes.txt': { content: 'not a model\n' } },
      settings: { 'onnxLens.measure.runs': 30 },
    });

  it('lists the model and layer commands in the palette only while an ONNX Lens editor is active', async function () {
    const page = session().page;
    const withoutEditor = await paletteListing(page, 'ONNX Lens', ALWAYS_LISTED, [...MODEL_COMMANDS, ...LAYER_COMMANDS]);
    for (const [title, listed] of withoutEditor) assert.equal(listed, false, `${title} is not offered without a model editor`);

    await openFile(page, 'notes.txt');
    const withTextEditor = await paletteListing(page, 'ONNX Lens', ALWAYS_LISTED, [...MODEL_COMMANDS, ...LAYER_COMMANDS]);
    for (const [title, listed] of withTextEditor) assert.equal(listed, false, `${title} is not offered in a text editor`);

    await openFile(page, MODEL_NAME);
    await webviewFrame(page).locator('[data-testid=overview]').getByText('pytorch').waitFor({ timeout: STEP_TIMEOUT_MS });
    const withModelEditor = await paletteListing(page, 'ONNX Lens', ALWAYS_LISTED, [...MODEL_COMMANDS, ...LAYER_COMMANDS]);
    for (const [title, listed] of withModelEditor) assert.equal(listed, true, `${title} is offered in the model editor`);
  });

  it('quantizes the whole model from the palette, shows progress while measuring, then the measured size, latency and fidelity', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openFile(page, MODEL_NAME);
    const frame = webviewFrame(page);
    await frame.locator('.layer-table .row[data-layer-id] .spark rect').first().waitFor({ timeout: STEP_TIMEOUT_MS });

    await runPaletteCommand(page, 'ONNX Lens: Quantize Model…');
    await screenshots.take('quantization choices');
    await pickQuickInputItem(page, 'Dynamic int8');
    await notificationToast(page, /Measuring/).waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('measuring progress');
    const dynamic = await measuredDelta(page, frame, /^dynamic int8 \(model\)/);
    console.log(`      dynamic int8: ${dynamic.text}`);
    assertPlausibleInt8(dynamic);
    // Each Gemm became MatMulInteger: its row stays, with the change inline.
    await waitForText(page, frame.locator('.layer-table .row[data-layer-id$="_quant"] .cell.delta').first(), /^dynamic int8 · .* → .* \(−\d+%\)/);
    await screenshots.take('dynamic int8 measured');

    await frame.locator('.layer-table .viewport').focus();
    await page.keyboard.press('Control+Z');
    await waitForText(page, frame.locator('[data-testid=overview]'), /^(?![\s\S]*Size )/);

    await runPaletteCommand(page, 'ONNX Lens: Quantize Model…');
    await pickQuickInputItem(page, 'int8 weight-only');
    const int8 = await measuredDelta(page, frame, /^int8 \(model\)/);
    console.log(`      int8 weight-only: ${int8.text}`);
    assertPlausibleInt8(int8);
    await screenshots.take('int8 measured');
  });

  it('compares with the saved file from the editor toolbar and prunes from the palette', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    const frame = webviewFrame(page);
    await runEditorTitleMenuItem(page, 'Compare with Saved File');
    const compared = await measuredDelta(page, frame, /^Against the saved file/);
    console.log(`      against the saved file: ${compared.text}`);
    assertPlausibleInt8(compared);
    await screenshots.take('compared with the saved file');

    await runPaletteCommand(page, 'File: Revert File');
    await frame.locator('[data-testid=model-delta]').waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
    await waitForTabDirty(page, MODEL_NAME, false);
    await runPaletteCommand(page, 'ONNX Lens: Prune Model…');
    await pickQuickInputItem(page, 'Global sparsity');
    // The amount is asked next, in an input box that starts at 50 (%).
    await waitForInputValue(page, quickInputField(page), '50');
    await quickInputField(page).fill('30');
    await page.keyboard.press('Enter');
    const pruned = await measuredDelta(page, frame, /^pruned \(model\)/);
    console.log(`      global sparsity 30%: ${pruned.text}`);
    assert.ok(pruned.cosine > 0.9 && pruned.cosine <= 1, `pruning 30% keeps the outputs related: ${pruned.text}`);
    await screenshots.take('pruned');
  });

  it('measures latency from the Explorer', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await rightClickExplorerItem(page, MODEL_NAME);
    await chooseContextMenuItem(page, 'Measure Latency');
    const result = notificationToast(page, new RegExp(`${MODEL_NAME.replace('.', '\\.')}: median \\d+\\.\\d+ ms, p90 \\d+\\.\\d+ ms over 30 runs`));
    await result.waitFor({ timeout: 90_000 });
    console.log(`      ${await result.locator('.notification-list-item-message').innerText()}`);
    await screenshots.take('latency measured');
  });
});

describe('cancelling a measurement in a real VS Code (code-server)', function () {
  // Enough rounds that the measurement is still running when Cancel is pressed.
  const session = useSession({
    name: 'model-actions-cancel', files: { [MODEL_NAME]: { copyFrom: MODEL_SOURCE } }, settings: { 'onnxLens.measure.runs': 1_000_000 },
  });

  it("stops ONNX Runtime when the progress notification's Cancel is pressed, and reports no error", async function () {
    const page = session().page;
    const { stateDir } = session().codeServer;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openFile(page, MODEL_NAME);
    await webviewFrame(page).locator('[data-testid=overview]').getByText('pytorch').waitFor({ timeout: STEP_TIMEOUT_MS });
    await runEditorTitleMenuItem(page, 'Measure Latency');
    const progress = notificationToast(page, /ONNX Lens: Measuring latency/);
    await progress.waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.waitForTimeout(3000);
    assert.ok(ortChildren(stateDir).length > 0, 'ONNX Runtime is measuring in a child process');
    await screenshots.take('measuring latency');
    await pressNotificationButton(progress, 'Cancel');
    await progress.waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
    await waitForNoOrtChildren(page, stateDir);
    await page.waitForTimeout(1000);
    assert.equal(await notificationToast(page, /error|abort/i).count(), 0, 'cancelling is not reported as an error');
    assert.equal(await notificationToast(page, /median/).count(), 0, 'no result after the cancel');
    await screenshots.take('after cancel');
  });
});
