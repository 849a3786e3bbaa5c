import { Page } from 'playwright-core';
import { chooseContextMenuItem, contextMenu, STEP_TIMEOUT_MS } from './workbench-actions';

/**
 * Chooses a context menu item once the menu has settled: a click that lands as the
 * menu opens can go unheard, so the pointer rests on the item first.
 */
export async function chooseSettledContextMenuItem(page: Page, label: string): Promise<void> {
  await contextMenu(page).locator(`.action-label[aria-label="${label.replace(/["\\]/g, '\\$&')}"]`).hover({ timeout: STEP_TIMEOUT_MS });
  await chooseContextMenuItem(page, label);
}
