// The main job: opens a real VS Code with ONNX Lens installed, on sample models.
// Desktop VS Code when a `code` command exists; otherwise code-server (VS Code in
// the browser, installed by scripts/install-code-server.sh) on loopback, with its URL printed.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vsix = join(root, 'onnx-lens-linux-x64.vsix');
const state = join(root, '.cache', 'start');
const workspace = join(state, 'workspace');
const SAMPLES = {
  'hello_deepa.onnx': 'node_modules/openwakeword-js/models/hello_deepa.onnx',
  'silero_vad_v5.onnx': 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx',
};
const FIRST_SAMPLE = join(workspace, Object.keys(SAMPLES)[0]);

function prepareWorkspace() {
  mkdirSync(workspace, { recursive: true });
  for (const [name, source] of Object.entries(SAMPLES)) copyFileSync(join(root, source), join(workspace, name));
}

function hasDesktopCode() {
  return spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
}

function openInDesktopCode() {
  execFileSync('code', ['--install-extension', vsix, '--force'], { stdio: 'inherit' });
  execFileSync('code', [workspace, FIRST_SAMPLE], { stdio: 'inherit' });
  console.log(`Opened ${FIRST_SAMPLE} in VS Code with ONNX Lens installed.`);
}

function freePort(preferred) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => server.listen(0, '127.0.0.1'));
    server.once('listening', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.listen(preferred, '127.0.0.1');
  });
}

async function openInCodeServer() {
  execFileSync('bash', [join(root, 'scripts', 'install-code-server.sh')], { stdio: 'inherit' });
  const node = join(root, '.cache', 'code-server', 'node', 'bin', 'node');
  const entry = join(root, '.cache', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const dirs = { extensions: join(state, 'extensions'), userData: join(state, 'user-data') };
  const env = { ...process.env, XDG_CONFIG_HOME: join(state, 'config'), XDG_DATA_HOME: join(state, 'data') };
  const common = ['--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData];
  execFileSync(node, [entry, ...common, '--install-extension', vsix, '--force'], { stdio: 'inherit', env });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none', 'chat.disableAIFeatures': true, 'workbench.secondarySideBar.defaultVisibility': 'hidden',
  }, null, 2));
  const port = await freePort(Number(process.env.PORT ?? 8080));
  const server = spawn(node, [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry',
    '--disable-update-check', ...common, workspace], { stdio: ['ignore', 'ignore', 'inherit'], env });
  console.log(`\nONNX Lens is running in VS Code (code-server): http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  console.log(`Open ${Object.keys(SAMPLES).join(' or ')} in the Explorer; it opens in the ONNX Lens editor. Ctrl+C stops.`);
  process.on('SIGINT', () => server.kill('SIGTERM'));
  server.on('exit', (code) => process.exit(code ?? 0));
}

prepareWorkspace();
if (hasDesktopCode()) openInDesktopCode();
else await openInCodeServer();
