/** quantize and prune from the command line on real models, the results checked with ONNX Runtime through `compare`. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OnnxModel } from '../../src/core';
import { REAL_MODELS, REPO_ROOT } from '../support/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const SILERO_INPUTS = ['--shape', 'input=1,512', '--value', 'sr=16000'];

function onnxLens(...args: string[]): string {
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, `onnx-lens ${args.join(' ')} exited with ${run.status}: ${run.stderr}`);
  return run.stdout;
}

/** The lowest cosine similarity over the outputs ORT computes for both models on the same inputs. */
function worstCosine(original: string, changed: string, extra: string[] = []): number {
  const report = JSON.parse(onnxLens('compare', original, changed, '--runs', '0', '--json', ...extra));
  return Math.min(...report.outputs.filter((output: { incomparable?: string }) => !output.incomparable)
    .map((output: { cosineSimilarity: number }) => output.cosineSimilarity));
}

describe('onnx-lens quantize and prune', function () {
  this.timeout(600_000);
  let work: string;
  before(() => { work = mkdtempSync(path.join(tmpdir(), 'onnx-lens-cli-passes-')); });
  after(() => rmSync(work, { recursive: true, force: true }));

  const cases = [
    { model: REAL_MODELS.helloDeepa, args: ['quantize', '--mode', 'int8'], inputs: [], minCosine: 0.99 },
    { model: REAL_MODELS.helloDeepa, args: ['quantize', '--mode', 'dynamic'], inputs: [], minCosine: 0.99 },
    { model: REAL_MODELS.helloDeepa, args: ['prune', '--sparsity', '0.3'], inputs: [], minCosine: 0.99 },
    { model: REAL_MODELS.sileroV5, args: ['quantize', '--mode', 'int8'], inputs: SILERO_INPUTS, minCosine: 0.99 },
    { model: REAL_MODELS.sileroV5, args: ['quantize', '--mode', 'fp16'], inputs: SILERO_INPUTS, minCosine: 0.999 },
    { model: REAL_MODELS.sileroLegacy, args: ['prune', '--global-sparsity', '0.2'], inputs: ['--shape', 'input=1,512', '--value', 'sr=16000'], minCosine: 0.9 },
  ];
  for (const testCase of cases) {
    it(`${testCase.args.join(' ')} on ${path.basename(testCase.model)} gives a model ORT runs with cosine ≥ ${testCase.minCosine}`, async () => {
      const output = path.join(work, `${path.basename(testCase.model, '.onnx')}-${testCase.args.join('-')}.onnx`);
      const printed = onnxLens(testCase.args[0], testCase.model, '-o', output, ...testCase.args.slice(1));
      assert.match(printed, /written to/);
      const before = (await OnnxModel.open(testCase.model)).encode().length;
      const after = (await OnnxModel.open(output)).encode().length;
      if (testCase.args[0] === 'quantize') assert.ok(after < before, `${after} bytes is not smaller than ${before}`);
      assert.ok(worstCosine(testCase.model, output, testCase.inputs) >= testCase.minCosine);
    });
  }

  it('--external-data puts the weights in OUT.data, and a pass on such a model keeps them there', () => {
    const quantized = path.join(work, 'external', 'hello-int8.onnx');
    mkdirSync(path.dirname(quantized));
    const first = JSON.parse(onnxLens('quantize', REAL_MODELS.helloDeepa, '-o', quantized, '--mode', 'int8', '--external-data', '--json'));
    assert.equal(first.dataFile, 'hello-int8.onnx.data');
    const pruned = path.join(work, 'external', 'hello-int8-pruned.onnx');
    const second = JSON.parse(onnxLens('prune', quantized, '-o', pruned, '--sparsity', '0.3', '--json'));
    assert.equal(second.dataFile, 'hello-int8-pruned.onnx.data');
    assert.deepEqual(readdirSync(path.dirname(quantized)).sort(), ['hello-int8-pruned.onnx', 'hello-int8-pruned.onnx.data', 'hello-int8.onnx', 'hello-int8.onnx.data']);
    assert.ok(statSync(pruned).size < statSync(`${pruned}.data`).size, 'the weights are not in the data file');
    assert.ok(worstCosine(REAL_MODELS.helloDeepa, pruned) >= 0.99);
  });
});
