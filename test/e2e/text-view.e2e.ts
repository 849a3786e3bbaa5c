import * as path from 'node:path';
import {
  editorTab, openFile, REPO_ROOT, runPaletteCommand, STEP_TIMEOUT_MS, StepScreenshots, useSession, waitForActiveEditorText,
  waitForTabDirty, waitForText, webviewFrame,
} from './support';

const MODEL_NAME = 'hello_deepa.onnx';
const MODEL_SOURCE = path.join(REPO_ROOT, 'node_modules', 'openwakeword-js', 'models', MODEL_NAME);
const LAYER_LABEL = '/layer1/Gemm';


describe('the text view of a model in a real VS Code (code-server)', function () {
  const session = useSession({ name: 'text-view', files: { [MODEL_NAME]: { copyFrom: MODEL_SOURCE } } });

  it("offers the layer actions on a layer's line (light bulb and lens) and applies them to the editor's document", async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openFile(page, MODEL_NAME);
    await webviewFrame(page).locator('.layer-table .row[data-layer-id]').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await runPaletteCommand(page, 'ONNX Lens: Show Model as Text');
    await waitForActiveEditorText(page, /= Gemm/);
    const lens = page.locator('.codelens-decoration a', { hasText: `Layer actions: ${LAYER_LABEL}` });
    await lens.waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('text view with layer lenses');
    await lens.click();
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Prune to sparsity…' }).waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('layer actions listed by the lens');
    await page.keyboard.press('Escape');

    // The Gemm's own line (its name also appears where later nodes read its output).
    await page.locator('.editor-group-container.active .view-line', { hasText: /layer1\/Gemm_output_0"\s=\sGemm\s/ }).click();
    await page.keyboard.press('Control+.');
    const item = page.locator('.action-widget .monaco-list-row', { hasText: 'Quantize this layer (float16)' });
    await item.waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('layer actions offered by the light bulb');
    await item.click();

    await editorTab(page, MODEL_NAME).click();
    // The edit joins the editor's document: its header shows the measured change and its tab turns dirty.
    const modelDelta = webviewFrame(page).locator('[data-testid=model-delta]');
    await waitForText(page, modelDelta, new RegExp(`^float16 ${LAYER_LABEL} · Size .* → .* \\(−\\d+%\\)`));
    await waitForTabDirty(page, MODEL_NAME, true);
    await screenshots.take('float16 applied from the text view');
  });
});
