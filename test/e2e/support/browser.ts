import { Browser, chromium, Page } from 'playwright-core';
import { CHROMIUM_PATH } from './paths';

/** Debian's Chromium, headless, with nothing that would reach the network on its own. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

export const VIEWPORT = { width: 1440, height: 900 };

const WORKBENCH_TIMEOUT_MS = 60_000;

export interface Workbench {
  browser: Browser;
  page: Page;
}

/** Opens the workbench at url in Chromium and waits until it is drawn. */
export async function openWorkbench(url: string): Promise<Workbench> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
    return { browser, page };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
