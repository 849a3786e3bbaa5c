import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { STEP_TIMEOUT_MS } from './workbench-actions';

/** Every file under folder, with paths relative to it. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await fs.readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)));
}

/**
 * Waits until code-server has backed up unsaved changes (hot exit): its working-copy
 * backups live under the user-data folder's Backups/. Returns the backup files found
 * under the instance's state folder that match, relative to it.
 */
export async function waitForBackups(stateDir: string, matches: (relativePath: string) => boolean, timeoutMs = STEP_TIMEOUT_MS): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let files: string[] = [];
  while (Date.now() < deadline) {
    files = await filesUnder(stateDir);
    const found = files.filter(matches);
    if (found.length > 0) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`No backup appeared under ${stateDir} within ${timeoutMs / 1000} s; it holds:\n${files.join('\n')}`);
}
