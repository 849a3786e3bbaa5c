import { Locator, Page } from 'playwright-core';
import { chooseContextMenuItem, contextMenu, openCommandPalette, paletteCommand, runPaletteCommand, STEP_TIMEOUT_MS, waitForPaletteCommand } from './workbench-actions';

/** Chooses the row with this label in the open quick pick (a command's own choices, not the palette's commands). */
export async function pickQuickInputItem(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-widget .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
  await row.click({ timeout: STEP_TIMEOUT_MS });
}

/**
 * Which of `titles` the command palette lists for `query`, once it lists `anchor`
 * (a command that is always there, so the list is known to be complete).
 */
export async function paletteListing(page: Page, query: string, anchor: string, titles: readonly string[]): Promise<Map<string, boolean>> {
  await openCommandPalette(page, query);
  await waitForPaletteCommand(page, anchor);
  const listed = new Map<string, boolean>();
  for (const title of titles) listed.set(title, (await paletteCommand(page, title).count()) > 0);
  await page.keyboard.press('Escape');
  return listed;
}

/** Presses a button (Cancel...) of a notification toast. */
export async function pressNotificationButton(toast: Locator, label: string): Promise<void> {
  await toast.hover({ timeout: STEP_TIMEOUT_MS });
  await toast.locator('.notification-list-item-buttons-container .monaco-button', { hasText: label }).click({ timeout: STEP_TIMEOUT_MS });
}

/** Runs an action of the active editor's title bar from its "More Actions…" menu (actions without icons live there). */
export async function runEditorTitleMenuItem(page: Page, label: string): Promise<void> {
  await page.locator('.editor-group-container.active :is(.editor-actions, .title-actions) .codicon-toolbar-more').first().click({ timeout: STEP_TIMEOUT_MS });
  await contextMenu(page).waitFor({ timeout: STEP_TIMEOUT_MS });
  await chooseContextMenuItem(page, label);
}

/** Switches the colour theme with "Preferences: Color Theme", as a user would. */
export async function pickColorTheme(page: Page, themeName: string): Promise<void> {
  await runPaletteCommand(page, 'Preferences: Color Theme');
  await quickInputField(page).fill(themeName, { timeout: STEP_TIMEOUT_MS });
  await pickQuickInputItem(page, themeName);
}

/** The text field of the open quick input (the palette, a quick pick, an input box, the simple file dialog). */
export function quickInputField(page: Page): Locator {
  return page.locator('.quick-input-widget .quick-input-box input');
}

/** Waits until a text field holds exactly `value`. */
export async function waitForInputValue(page: Page, input: Locator, value: string): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while ((await input.inputValue()) !== value) {
    if (Date.now() > deadline) throw new Error(`The field holds ${JSON.stringify(await input.inputValue())}, not ${JSON.stringify(value)}, after ${STEP_TIMEOUT_MS / 1000} s.`);
    await page.waitForTimeout(200);
  }
}
