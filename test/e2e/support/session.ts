import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Page } from 'playwright-core';
import { openWorkbench } from './browser';
import { saveFailureScreenshot } from './screenshots';
import { CodeServer, startCodeServer } from './code-server';
import { ARTIFACTS_DIR } from './paths';
import { createWorkspace, WorkspaceFile } from './workspace';

export interface SessionOptions {
  /** Names the log file: test-artifacts/e2e/<name>-code-server.log. */
  name: string;
  /** The workspace's files. */
  files: Record<string, WorkspaceFile>;
  /** User settings over the clean-workbench ones. */
  settings?: Record<string, unknown>;
}

/** A workspace, code-server with the packaged extension, and Chromium showing its workbench. */
export interface E2eSession {
  page: Page;
  workspaceDir: string;
  codeServer: CodeServer;
  /** Closes Chromium, stops code-server and removes the workspace, even after a failure. */
  close(): Promise<void>;
}

/** Starts everything a test needs; if any part fails to start, what did start is stopped. */
export async function startSession(options: SessionOptions): Promise<E2eSession> {
  const workspaceDir = await createWorkspace(options.files);
  const cleanups: Array<() => Promise<void>> = [() => fs.rm(workspaceDir, { recursive: true, force: true })];
  const close = () => runAll(cleanups);
  try {
    const logFile = path.join(ARTIFACTS_DIR, `${options.name}-code-server.log`);
    const codeServer = await startCodeServer({ workspaceDir, logFile, settings: options.settings });
    cleanups.unshift(codeServer.stop);
    const { browser, page } = await openWorkbench(codeServer.url);
    cleanups.unshift(() => browser.close());
    return { page, workspaceDir, codeServer, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Runs every cleanup in order even when one fails, then reports the first failure. */
async function runAll(cleanups: Array<() => Promise<void>>): Promise<void> {
  const failures: unknown[] = [];
  for (const cleanup of cleanups) await cleanup().catch((error: unknown) => failures.push(error));
  if (failures.length > 0) throw failures[0];
}

/**
 * One session for a describe block: started before its tests, a screenshot
 * after each failed test, closed after them all. Returns the running session.
 */
export function useSession(options: SessionOptions | (() => Promise<SessionOptions>)): () => E2eSession {
  let session: E2eSession | undefined;
  before(async function () {
    session = await startSession(typeof options === 'function' ? await options() : options);
  });
  afterEach(async function () {
    await saveFailureScreenshot(session?.page, this.currentTest);
  });
  after(async function () {
    await session?.close();
  });
  return () => {
    if (!session) throw new Error('The end-to-end session did not start.');
    return session;
  };
}
