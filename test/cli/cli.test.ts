/**
 * The onnx-lens command as a user runs it: `node dist/cli.js ...` after
 * `npm run build`, on real models and on models that break ONNX Runtime.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { REAL_MODELS, REPO_ROOT } from '../support/fixtures';
import { crashingModel, hangingModel, numpy, writeTemporary } from '../core/runtime-models';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const SILERO_INPUTS = ['--shape', 'input=1,512', '--value', 'sr=16000'];

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function onnxLens(...args: string[]): Run {
  // inspect --json of a real model runs to megabytes: spawnSync's default 1 MiB buffer would kill the command.
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20 });
  assert.equal(run.signal, null, `onnx-lens ${args.join(' ')} was killed by ${run.signal}`);
  return run;
}

function succeeds(...args: string[]): string {
  const run = onnxLens(...args);
  assert.equal(run.status, 0, `onnx-lens ${args.join(' ')} exited with ${run.status}: ${run.stderr}`);
  assert.equal(run.stderr, '', 'nothing on stderr when it is not a terminal');
  return run.stdout;
}

function fails(status: number, message: RegExp, ...args: string[]): string {
  const run = onnxLens(...args);
  assert.equal(run.status, status, `onnx-lens ${args.join(' ')}: ${run.stderr}`);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, message);
  return run.stderr;
}

describe('onnx-lens command line', function () {
  this.timeout(300_000);
  let folder: string;
  let files: Record<string, string>;

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
    ({ folder, paths: files } = await writeTemporary({ 'crash.onnx': crashingModel(), 'hang.onnx': hangingModel(), 'garbage.onnx': Buffer.from('not a model at all') }));
    for (const [name, source] of [['silero-copy.onnx', REAL_MODELS.sileroV5], ['hello-copy.onnx', REAL_MODELS.helloDeepa]]) {
      files[name] = path.join(folder, name);
      copyFileSync(source, files[name]);
    }
  });

  after(() => fs.rm(folder, { recursive: true, force: true }));

  describe('inspect', () => {
    it('prints the overview of a real model, and its full report as JSON', () => {
      assert.match(succeeds('inspect', REAL_MODELS.sileroV5), /^Input      input: float32\[\?,\?\]$/m);
      const report = JSON.parse(succeeds('inspect', REAL_MODELS.sileroV5, '--json'));
      assert.deepEqual(report.overview.inputs.map((input: { name: string }) => input.name), ['input', 'state', 'sr']);
    });
  });

  describe('bench', () => {
    it('times a real model with synthesised inputs', () => {
      const out = succeeds('bench', REAL_MODELS.helloDeepa, '--runs', '20');
      assert.match(out, /^Inputs     onnx::Flatten_0: float32\[1,25,96\] synthesised$/m);
      assert.match(out, /^Latency    20 interleaved rounds after 5 warm-up runs, 1 thread per operator$/m);
      assert.match(out, /^ *Median +p90 +Min +Max +CPU median$/m);
      assert.match(out, /^\d+\.\d+ ms +\d+\.\d+ ms +\d+\.\d+ ms +\d+\.\d+ ms +\d+\.\d+ ms$/m);
    });

    it('finds two copies of the same model within noise of each other, and says so in JSON too', () => {
      assert.match(succeeds('bench', REAL_MODELS.sileroV5, files['silero-copy.onnx'], ...SILERO_INPUTS), /^B against A: [+−]\d+\.\d% \(95% interval .*\), within noise$/m);
      const report = JSON.parse(succeeds('bench', REAL_MODELS.helloDeepa, files['hello-copy.onnx'], '--runs', '30', '--json'));
      assert.equal(report.change.verdict, 'within noise');
      assert.deepEqual(report.models.map((model: { latency: { runs: number } }) => model.latency.runs), [30, 30]);
      assert.deepEqual(report.settings, { threads: 1, warmupRuns: 5, rounds: 30 });
    });
  });

  describe('compare', () => {
    it('compares two copies of a real model: same size, identical outputs, latency within noise', () => {
      const out = succeeds('compare', REAL_MODELS.sileroV5, files['silero-copy.onnx'], ...SILERO_INPUTS, '--runs', '20');
      assert.match(out, /^Inputs     input: float32\[1,512\] synthesised\n +state: float32\[2,1,128\] synthesised\n +sr: int64\[\] = 16000\n +3 input sets$/m);
      assert.match(out, /^model, raw +2\.2 MiB +2\.2 MiB +\+0\.0%$/m);
      assert.match(out, /^All of 189 layers keep their raw size\.$/m);
      assert.match(out, /^output +\[1,1\] +identical +0 +0 +inf +-$/m);
      assert.match(out, /^stateN +\[2,1,128\] +identical +0 +0 +inf +-$/m);
      assert.match(out, /^B against A: .*, within noise$/m);
    });

    it('reports in JSON, with real inputs from a folder of .npy files', () => {
      const inputs = path.join(folder, 'hello-inputs');
      numpy(`
import os
os.makedirs(data)
np.save(os.path.join(data, 'onnx::Flatten_0.npy'), np.random.default_rng(0).standard_normal((1, 25, 96)).astype(np.float32))
result = None`, inputs);
      const report = JSON.parse(succeeds('compare', REAL_MODELS.helloDeepa, files['hello-copy.onnx'], '--inputs', inputs, '--runs', '0', '--json'));
      assert.deepEqual(report.inputs, [{ name: 'onnx::Flatten_0', type: 'float32', dims: [1, 25, 96], origin: { kind: 'file', file: path.join(inputs, 'onnx::Flatten_0.npy') } }]);
      assert.equal(report.inputSets, 1);
      assert.equal(report.outputs[0].identical, true);
      assert.equal(report.outputs[0].sqnrDb, 'Infinity');
      assert.equal(report.size.before.total.raw, statSync(REAL_MODELS.helloDeepa).size);
      assert.equal(report.latency, undefined);
    });

    it('shows a progress line on a terminal', function () {
      if (!existsSync('/usr/bin/script')) this.skip();
      const command = [process.execPath, CLI, 'compare', REAL_MODELS.helloDeepa, files['hello-copy.onnx'], '--runs', '2000'].map((arg) => `'${arg}'`).join(' ');
      const terminal = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
      assert.equal(terminal.status, 0, terminal.stdout);
      assert.match(terminal.stdout, /\r\x1b\[Ktiming rounds \d+\/2000…/);
    });
  });

  describe('failures', () => {
    it('exits 4 naming the model and the node when ONNX Runtime refuses the synthesised inputs', () => {
      fails(4, /^onnx-lens: ONNX Runtime could not run ".*silero_vad_v5\.onnx" at node "If_0_else_branch__Inline_0__\/stft\/padding\/Pad": .* The inputs were input: float32\[1,1\], state: float32\[2,1,128\], sr: int64\[\]\.\n$/,
        'bench', REAL_MODELS.sileroV5);
    });

    it('exits 4 when the second model of a comparison does not take the first one\'s input shapes', () => {
      fails(4, /^onnx-lens: ONNX Runtime could not run ".*hello_deepa_old\.onnx": Got invalid dimensions for input: onnx::Flatten_0/,
        'compare', REAL_MODELS.helloDeepa, path.join(path.dirname(REAL_MODELS.helloDeepa), 'hello_deepa_old.onnx'), '--runs', '0');
    });

    it('survives ONNX Runtime crashing and hanging, and exits 4 saying so', () => {
      fails(4, /^onnx-lens: ONNX Runtime crashed while running ".*crash\.onnx" \(signal SIGFPE, an arithmetic fault in native code\); .*\.\n$/, 'bench', files['crash.onnx']);
      fails(4, /^onnx-lens: ONNX Runtime did not finish running ".*hang\.onnx" within 1 s; its process was stopped\.\n$/, 'bench', files['hang.onnx'], '--timeout', '1');
    });

    it('stops at Ctrl-C, ending the runtime process, and exits 130', async () => {
      const cli = spawn(process.execPath, [CLI, 'bench', files['hang.onnx']], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      cli.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      setTimeout(() => cli.kill('SIGINT'), 1500);
      const [status] = await once(cli, 'close');
      assert.equal(status, 130, stderr);
      assert.equal(stderr, 'onnx-lens: Interrupted.\n');
    });

    it('exits 3 for a file that is not a model, or is not there', () => {
      fails(3, /^onnx-lens: ".*garbage\.onnx": Not a valid ONNX model: malformed protobuf near byte offset \d+ .*\.\n$/, 'bench', files['garbage.onnx']);
      fails(3, /^onnx-lens: Cannot open ".*missing\.onnx": the file does not exist\.\n$/, 'compare', path.join(folder, 'missing.onnx'), REAL_MODELS.helloDeepa);
    });

    it('exits 2 with the usage for bad usage, and for inputs that do not fit the model', () => {
      assert.match(fails(2, /^onnx-lens: Name a command\.\n\nUsage: onnx-lens COMMAND/), /^Exit codes: 0 success, 2 bad usage/m);
      fails(2, /^onnx-lens: bench takes 1 or 2 models, not 3\.\n\nUsage:/, 'bench', 'a', 'b', 'c');
      fails(2, /^onnx-lens: prune needs exactly one of --threshold/, 'prune', REAL_MODELS.helloDeepa, '-o', 'x.onnx');
      fails(2, /^onnx-lens: ".*hello_deepa\.onnx" has no input "audio"; its inputs are "onnx::Flatten_0"\.\n$/, 'bench', REAL_MODELS.helloDeepa, '--shape', 'audio=1,512');
      fails(2, /^onnx-lens: Cannot read inputs from ".*nowhere": it does not exist\.\n$/, 'bench', REAL_MODELS.helloDeepa, '--inputs', path.join(folder, 'nowhere'));
    });

    it('prints the usage on stdout and exits 0 for --help', () => {
      const run = onnxLens('--help');
      assert.equal(run.status, 0);
      assert.match(run.stdout, /^ {2}compare A B {17}size, output fidelity and latency of B against A/m);
    });
  });
});
