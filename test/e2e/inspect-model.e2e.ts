import * as assert from 'node:assert/strict';
import {
  chooseContextMenuItem, explorerItem, openCommandPalette, rightClickExplorerItem, SAMPLE_MODEL, STEP_TIMEOUT_MS, StepScreenshots,
  useSession, waitForActiveEditorText, waitForPaletteCommand,
} from './support';

const MODEL_NAME = 'silero_vad_v5.onnx';
const INSPECT_TITLE = 'Inspect Model (Text Report)';

describe('ONNX Lens in a real VS Code (code-server)', function () {
  const session = useSession({ name: 'inspect-model', files: { [MODEL_NAME]: { copyFrom: SAMPLE_MODEL } } });

  afterEach(async function () {
    await session().page.keyboard.press('Escape');
  });

  it(`lists "ONNX Lens: ${INSPECT_TITLE}" in the command palette`, async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openCommandPalette(page, 'ONNX Lens');
    await waitForPaletteCommand(page, `ONNX Lens: ${INSPECT_TITLE}`);
    await screenshots.take('palette lists the command');
  });

  it('shows the report of a model right-clicked in the Explorer', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await explorerItem(page, MODEL_NAME).waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('workspace with the model');
    await rightClickExplorerItem(page, MODEL_NAME);
    await screenshots.take('explorer context menu');
    await chooseContextMenuItem(page, INSPECT_TITLE);
    const report = await waitForActiveEditorText(page, /^Producer +spox$/m);
    await screenshots.take('report');
    assert.match(report, /^Weights +341 tensors, 545\.6 k parameters, 2\.1 MiB$/m);
    assert.match(report, /^\S+ +constant in main\/If_0\.else_branch +float32 +\[130,1,128\] +16640 +66560 +Conv /m);
  });
});
