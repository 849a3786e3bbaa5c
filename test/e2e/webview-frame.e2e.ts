import { openFile, runPaletteCommand, STEP_TIMEOUT_MS, StepScreenshots, useSession, webviewFrame } from './support';

// The harness's own check: webviewFrame reaches a webview's content. Until ONNX Lens has
// its custom editor, the webview is the built-in Markdown preview.
describe('e2e harness', function () {
  const session = useSession({ name: 'webview-frame', files: { 'NOTES.md': { content: '# Layer notes\n\nPruned to 50 %.\n' } } });

  it('reaches the content of a webview through webviewFrame', async function () {
    const page = session().page;
    const screenshots = await StepScreenshots.start(page, this.test!.fullTitle());
    await openFile(page, 'NOTES.md');
    await runPaletteCommand(page, 'Markdown: Open Preview');
    await webviewFrame(page).locator('h1', { hasText: 'Layer notes' }).waitFor({ timeout: STEP_TIMEOUT_MS });
    await screenshots.take('markdown preview');
  });
});
