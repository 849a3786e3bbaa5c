import { FrameLocator, Locator, Page } from 'playwright-core';

/** How long the pointer rests on a menu item before clicking it. */
const MENU_SETTLE_MS = 300;

/** How long a step waits for the workbench to show what it expects. */
export const STEP_TIMEOUT_MS = 30_000;

/** Opens the command palette with query typed in; waitForPaletteCommand then finds a command's row. */
export async function openCommandPalette(page: Page, query: string): Promise<void> {
  await page.keyboard.press('F1');
  await quickInputBox(page).fill(`>${query}`, { timeout: STEP_TIMEOUT_MS });
}

/** The command palette's row for the command with this full title ("Category: Title"). */
export function paletteCommand(page: Page, title: string): Locator {
  return page.locator('.quick-input-widget .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exactly(title) }) });
}

/**
 * Waits until the open command palette lists the command, typing the query again while
 * extensions are still registering (the palette reads the commands as the query changes).
 */
export async function waitForPaletteCommand(page: Page, title: string, timeoutMs = STEP_TIMEOUT_MS): Promise<Locator> {
  const row = paletteCommand(page, title);
  const input = quickInputBox(page);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await row.isVisible()) return row;
    const query = await input.inputValue();
    await page.waitForTimeout(500);
    await input.fill('>');
    await input.fill(query);
  }
  throw new Error(`The command palette did not list "${title}" within ${timeoutMs / 1000} s.`);
}

/** Runs a command by its full title through the command palette, as a user would. */
export async function runPaletteCommand(page: Page, title: string): Promise<void> {
  await openCommandPalette(page, title);
  await (await waitForPaletteCommand(page, title)).click();
}

/** Opens a workspace file by its relative path through Quick Open, and waits for its tab. */
export async function openFile(page: Page, relativePath: string): Promise<void> {
  await page.keyboard.press('Control+P');
  await quickInputBox(page).fill(relativePath, { timeout: STEP_TIMEOUT_MS });
  const fileName = relativePath.split('/').pop() ?? relativePath;
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: fileName }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.keyboard.press('Enter');
  await editorTab(page, fileName).waitFor({ timeout: STEP_TIMEOUT_MS });
}

/** The editor tab of the file with this name. */
export function editorTab(page: Page, fileName: string): Locator {
  return page.locator(`.tabs-container .tab[data-resource-name="${cssString(fileName)}"]`);
}

/** The Explorer's row for a file or folder name (shown only while its parents are expanded). */
export function explorerItem(page: Page, name: string): Locator {
  return page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${cssString(name)}"]`);
}

/** Right-clicks an Explorer item and waits for its context menu. */
export async function rightClickExplorerItem(page: Page, name: string): Promise<void> {
  await explorerItem(page, name).click({ button: 'right', timeout: STEP_TIMEOUT_MS });
  await contextMenu(page).waitFor({ timeout: STEP_TIMEOUT_MS });
}

/** The open context menu (VS Code draws it in a shadow root, which these selectors pierce). */
export function contextMenu(page: Page): Locator {
  return page.locator('.context-view .monaco-menu');
}

/**
 * Chooses the item with this label in the open context menu, once the menu has
 * settled: a click right as it opens is sometimes lost, so the pointer rests on the item first.
 */
export async function chooseContextMenuItem(page: Page, label: string): Promise<void> {
  const item = contextMenu(page).locator(`.action-label[aria-label="${cssString(label)}"]`);
  await item.hover({ timeout: STEP_TIMEOUT_MS });
  await page.waitForTimeout(MENU_SETTLE_MS);
  await item.click({ timeout: STEP_TIMEOUT_MS });
  await contextMenu(page).waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
}

/** The lines of the active text editor that are drawn, top to bottom, with plain spaces. */
export async function activeEditorText(page: Page): Promise<string> {
  const lines = page.locator('.editor-group-container.active .monaco-editor .view-lines .view-line');
  return lines.evaluateAll((elements) => elements
    .map((element) => ({ top: element.getBoundingClientRect().top, text: element.textContent ?? '' }))
    .sort((a, b) => a.top - b.top)
    .map((line) => line.text.replace(/\u00a0/g, ' '))
    .join('\n'));
}

/** Waits until the active text editor shows text matching pattern, and returns that text. */
export async function waitForActiveEditorText(page: Page, pattern: RegExp, timeoutMs = STEP_TIMEOUT_MS): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await activeEditorText(page);
    if (pattern.test(text)) return text;
    await page.waitForTimeout(250);
  }
  throw new Error(`The active editor did not show ${pattern} within ${timeoutMs / 1000} s; it showed:\n${text || '(no text editor)'}`);
}

/**
 * The content of the visible webview (a custom editor, a preview), which VS Code nests in two
 * iframes; webviews of background tabs are hidden. With two visible, actions on it throw.
 */
export function webviewFrame(page: Page): FrameLocator {
  return page.locator('iframe.webview.ready').filter({ visible: true }).contentFrame().frameLocator('iframe#active-frame');
}

function quickInputBox(page: Page): Locator {
  return page.locator('.quick-input-widget .quick-input-box input');
}

function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

function cssString(text: string): string {
  return text.replace(/["\\]/g, '\\$&');
}

/** Waits until the element's text matches (an empty cell has no size, so Playwright's visibility waits cannot see it). */
export async function waitForText(page: Page, locator: Locator, pattern: RegExp, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let text = await locator.innerText();
  while (!pattern.test(text)) {
    if (Date.now() > deadline) throw new Error(`Expected text matching ${pattern} within ${timeoutMs / 1000} s, found ${JSON.stringify(text)}.`);
    await page.waitForTimeout(200);
    text = await locator.innerText();
  }
}
