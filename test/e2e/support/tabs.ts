import { Page } from 'playwright-core';
import { editorTab, STEP_TIMEOUT_MS } from './workbench-actions';

/** Waits until the file's editor tab shows (or no longer shows) unsaved changes. */
export async function waitForTabDirty(page: Page, fileName: string, dirty: boolean, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  const tab = editorTab(page, fileName);
  const deadline = Date.now() + timeoutMs;
  const isDirty = async () => ((await tab.getAttribute('class', { timeout: timeoutMs })) ?? '').split(/\s+/).includes('dirty');
  while ((await isDirty()) !== dirty) {
    if (Date.now() > deadline) throw new Error(`The tab of ${fileName} did not become ${dirty ? 'dirty' : 'clean'} within ${timeoutMs / 1000} s.`);
    await page.waitForTimeout(200);
  }
}
