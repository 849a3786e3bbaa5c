// Launches the integration suite inside a desktop VS Code that @vscode/test-electron
// downloads (so it needs a machine that can reach VS Code's downloads): `npm run test:integration`.
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const SAMPLE_MODELS_DIR = path.join(REPO_ROOT, 'node_modules', '@ricky0123', 'vad-web', 'dist');

async function main(): Promise<void> {
  await runTests({
    extensionDevelopmentPath: REPO_ROOT,
    extensionTestsPath: path.join(__dirname, 'suite', 'index'),
    launchArgs: [SAMPLE_MODELS_DIR, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((error: unknown) => {
  console.error('The integration tests failed:', error);
  process.exit(1);
});
