import * as path from 'node:path';

/** The repository root: this file runs as out/test/e2e/support/paths.js. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Built by `npm run package`, which `npm run test:e2e` runs first. */
export const VSIX_PATH = path.join(REPO_ROOT, 'onnx-lens-linux-x64.vsix');

/** Installed by scripts/install-code-server.sh. */
export const CODE_SERVER_DIR = path.join(REPO_ROOT, '.cache', 'code-server');
export const CODE_SERVER_NODE = path.join(CODE_SERVER_DIR, 'node', 'bin', 'node');
export const CODE_SERVER_ENTRY = path.join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Screenshots and logs of every e2e run (git-ignored). */
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts', 'e2e');

/** Silero VAD v5, a real trained model shipped by an npm package; its producer is "spox". */
export const SAMPLE_MODEL = path.join(REPO_ROOT, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx');
