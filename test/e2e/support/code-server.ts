import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CODE_SERVER_ENTRY, CODE_SERVER_NODE, VSIX_PATH } from './paths';

/** A clean workbench for screenshots: no trust prompt, no Welcome page, no chat panel. */
export const CLEAN_WORKBENCH_SETTINGS: Readonly<Record<string, unknown>> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  // The browser build saves after a delay by default, which would clear the dirty marker the tests check.
  'files.autoSave': 'off',
};

export interface CodeServerOptions {
  /** The folder the workbench opens. */
  workspaceDir: string;
  /** Where code-server's own output goes. */
  logFile: string;
  /** Extensions to install first; the packaged ONNX Lens unless given. */
  vsixPaths?: string[];
  /** User settings, over CLEAN_WORKBENCH_SETTINGS. */
  settings?: Record<string, unknown>;
}

export interface CodeServer {
  /** The workbench's address on the loopback interface. */
  url: string;
  /** Extensions, user data and config of this instance only (removed by stop). */
  stateDir: string;
  /** Ends code-server and every process it started. */
  stop(): Promise<void>;
}

interface StateDirs {
  extensions: string;
  userData: string;
  config: string;
  data: string;
}

const START_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 5_000;

/** Starts code-server with fresh extensions and user-data folders, the given extensions installed. */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  assertCodeServerInstalled();
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onnx-lens-e2e-code-server-'));
  const dirs = stateDirsUnder(stateDir);
  await writeUserSettings(dirs.userData, { ...CLEAN_WORKBENCH_SETTINGS, ...options.settings });
  for (const vsixPath of options.vsixPaths ?? [VSIX_PATH]) await installExtension(vsixPath, dirs);
  const port = await freeLoopbackPort();
  const child = launchCodeServer(port, options, dirs);
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    await stopProcessGroup(child);
    await fsp.rm(stateDir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(url, child, options.logFile);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stateDir, stop };
}

function assertCodeServerInstalled(): void {
  if (!fs.existsSync(CODE_SERVER_ENTRY) || !fs.existsSync(CODE_SERVER_NODE)) {
    throw new Error(`code-server is not installed in ${path.dirname(CODE_SERVER_ENTRY)}: run scripts/install-code-server.sh.`);
  }
}

function stateDirsUnder(stateDir: string): StateDirs {
  return {
    extensions: path.join(stateDir, 'extensions'),
    userData: path.join(stateDir, 'user-data'),
    config: path.join(stateDir, 'config'),
    data: path.join(stateDir, 'data'),
  };
}

async function writeUserSettings(userDataDir: string, settings: Record<string, unknown>): Promise<void> {
  const userDir = path.join(userDataDir, 'User');
  await fsp.mkdir(userDir, { recursive: true });
  await fsp.writeFile(path.join(userDir, 'settings.json'), JSON.stringify(settings, null, 2));
}

async function installExtension(vsixPath: string, dirs: StateDirs): Promise<void> {
  if (!fs.existsSync(vsixPath)) throw new Error(`${vsixPath} does not exist: run npm run package.`);
  const args = [CODE_SERVER_ENTRY, '--install-extension', vsixPath, ...stateArgs(dirs)];
  const { stdout } = await promisify(execFile)(CODE_SERVER_NODE, args, { env: codeServerEnv(dirs), timeout: INSTALL_TIMEOUT_MS });
  if (!/successfully installed/i.test(stdout)) throw new Error(`code-server did not install ${vsixPath}: ${stdout.trim()}`);
}

function stateArgs(dirs: StateDirs): string[] {
  return ['--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData, '--config', path.join(dirs.config, 'config.yaml')];
}

/** Keeps code-server away from the user's own config, data and any VS Code this runs inside. */
function codeServerEnv(dirs: StateDirs): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: dirs.config, XDG_DATA_HOME: dirs.data };
  delete env.VSCODE_IPC_HOOK_CLI;
  return env;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function launchCodeServer(port: number, options: CodeServerOptions, dirs: StateDirs): ChildProcess {
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, 'w');
  const args = [
    CODE_SERVER_ENTRY, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', ...stateArgs(dirs), options.workspaceDir,
  ];
  // Its own process group, so that stop() reaches the extension host and the other helpers too.
  const child = spawn(CODE_SERVER_NODE, args, { env: codeServerEnv(dirs), detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const killOnExit = () => killProcessGroup(child, 'SIGKILL');
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  return child;
}

async function waitUntilServing(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${logFile}.`);
    if (await answers(url)) return;
    await delay(250);
  }
  throw new Error(`code-server did not answer at ${url} within ${START_TIMEOUT_MS / 1000} s; see ${logFile}.`);
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { redirect: 'manual' });
    return response.status < 500;
  } catch {
    return false;
  }
}

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  killProcessGroup(child, 'SIGTERM');
  await Promise.race([exited, delay(STOP_GRACE_MS)]);
  killProcessGroup(child, 'SIGKILL');
  await exited;
}

function killProcessGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // The group has already ended.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
