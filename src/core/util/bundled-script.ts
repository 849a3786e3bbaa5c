import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Locates a script that the core starts as a worker thread or child process.
 * Compiled by tsc (tests, out/), it sits next to the calling module under its
 * own name; bundled by esbuild (extension, CLI), every entry point sits in
 * dist/ under its bundle name. `callerDirectory` is the caller's __dirname.
 */
export function bundledScriptPath(callerDirectory: string, moduleFileName: string, bundleFileName: string): string {
  const besideCaller = path.join(callerDirectory, moduleFileName);
  return existsSync(besideCaller) ? besideCaller : path.join(callerDirectory, bundleFileName);
}
