import { Locator, Page } from 'playwright-core';
import { runPaletteCommand, STEP_TIMEOUT_MS } from './workbench-actions';

/** The notification toasts VS Code shows in the corner (errors, information, progress). */
export function notificationToasts(page: Page): Locator {
  return page.locator('.notifications-toasts .notification-toast');
}

/** The toast whose message matches pattern. */
export function notificationToast(page: Page, pattern: RegExp): Locator {
  return notificationToasts(page).filter({ has: page.locator('.notification-list-item-message', { hasText: pattern }) });
}

/** Waits until a toast's message matches pattern, and returns that toast's message element. */
export async function waitForNotification(page: Page, pattern: RegExp, timeoutMs = STEP_TIMEOUT_MS): Promise<Locator> {
  const message = notificationToast(page, pattern).locator('.notification-list-item-message').first();
  try {
    await message.waitFor({ timeout: timeoutMs });
  } catch {
    const shown = await page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
    throw new Error(`No notification matching ${pattern} within ${timeoutMs / 1000} s; shown: ${JSON.stringify(shown)}.`);
  }
  return message;
}

/** Waits until no toast's message matches pattern (a progress notification that ended). */
export async function waitForNoNotification(page: Page, pattern: RegExp, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  await notificationToast(page, pattern).first().waitFor({ state: 'detached', timeout: timeoutMs });
}

/** Dismisses every notification, so that the next one a test waits for is new. */
export async function clearNotifications(page: Page): Promise<void> {
  await runPaletteCommand(page, 'Notifications: Clear All Notifications');
  await notificationToasts(page).first().waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
}
