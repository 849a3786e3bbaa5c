import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Page } from 'playwright-core';
import { ARTIFACTS_DIR } from './paths';

/** Numbered screenshots of one test's steps, in test-artifacts/e2e/<test>/ (emptied first). */
export class StepScreenshots {
  private stepCount = 0;

  private constructor(private readonly page: Page, readonly folder: string) {}

  static async start(page: Page, testTitle: string): Promise<StepScreenshots> {
    const folder = path.join(ARTIFACTS_DIR, fileNameFor(testTitle));
    await fs.rm(folder, { recursive: true, force: true });
    await fs.mkdir(folder, { recursive: true });
    return new StepScreenshots(page, folder);
  }

  /** Saves the page as NN-step.png and returns the file's path. */
  async take(step: string): Promise<string> {
    this.stepCount += 1;
    const file = path.join(this.folder, `${String(this.stepCount).padStart(2, '0')}-${fileNameFor(step)}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}

/** For an afterEach hook: a screenshot of how the workbench looked when a test failed. */
export async function saveFailureScreenshot(page: Page | undefined, test: Mocha.Test | undefined): Promise<void> {
  if (!page || !test || test.state !== 'failed') return;
  const file = path.join(ARTIFACTS_DIR, fileNameFor(test.fullTitle()), 'failure.png');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file }).catch(() => undefined);
}

function fileNameFor(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
