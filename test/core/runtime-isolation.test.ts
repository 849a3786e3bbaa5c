/**
 * ONNX Runtime runs in a process of its own: models that crash it, hang it or
 * exhaust it end with a typed error naming the model (and the node, where ORT
 * says it), and the caller goes on using the runtime.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  benchmarkModels, compareModels, InvalidArgumentError, OrtRuntime, RuntimeCrashError, RuntimeRefusedError, RuntimeTimeoutError,
} from '../../src/core';
import { REAL_MODELS, REPO_ROOT } from '../support/fixtures';
import { DataType, encode, graph, model, node, valueInfo } from '../support/model-builder';
import { crashingModel, hangingModel, hugeAllocationModel, unknownOpModel, writeTemporary } from './runtime-models';

const TIMEOUT_MS = 3000;
/** What a timed-out or aborted request may take beyond its limit: killing and reaping the process. */
const STOP_SLACK_MS = 2000;
const QUICK = { rounds: 3, warmupRuns: 1 };

describe('runtime isolation', function () {
  this.timeout(60_000);
  let runtime: OrtRuntime;
  let folder: string;
  let models: Record<string, string>;

  before(async () => {
    runtime = new OrtRuntime({ timeoutMs: TIMEOUT_MS });
    ({ folder, paths: models } = await writeTemporary({
      'crash.onnx': crashingModel(), 'int32-identity.onnx': int32IdentityModel(), 'hang.onnx': hangingModel(), 'huge.onnx': hugeAllocationModel(), 'unknown-op.onnx': unknownOpModel(),
    }));
  });

  after(async () => {
    runtime.dispose();
    await fs.rm(folder, { recursive: true, force: true });
  });

  /** The runtime still works after whatever the test did to it. */
  async function assertStillWorks(): Promise<void> {
    const report = await benchmarkModels(runtime, [{ path: REAL_MODELS.helloDeepa }], QUICK);
    assert.equal(report.models[0].latency.runs, QUICK.rounds);
  }

  it('reports a native crash (SIGFPE in integer Div) as a RuntimeCrashError naming the model', async () => {
    const error = await rejection(benchmarkModels(runtime, [{ path: models['crash.onnx'] }], QUICK));
    assert.ok(error instanceof RuntimeCrashError, String(error));
    assert.equal(error.signal, 'SIGFPE');
    assert.equal(error.phase, 'run');
    assert.match(error.message, /^ONNX Runtime crashed while running ".*crash\.onnx" \(signal SIGFPE, an arithmetic fault in native code\); .*\.$/);
    await assertStillWorks();
  });

  it('names the model of a pair that crashed', async () => {
    const error = await rejection(compareModels(runtime, { path: models['int32-identity.onnx'] }, { path: models['crash.onnx'] }, QUICK));
    assert.ok(error instanceof RuntimeCrashError, String(error));
    assert.match(error.message, /^ONNX Runtime crashed while running "[^"]*\/crash\.onnx" \(signal SIGFPE/);
    assert.doesNotMatch(error.message, /identity/);
    await assertStillWorks();
  });

  it('stops a run that hangs (an endless Loop) after the timeout, naming the model', async () => {
    const started = Date.now();
    const error = await rejection(benchmarkModels(runtime, [{ path: models['hang.onnx'] }], QUICK));
    const elapsed = Date.now() - started;
    assert.ok(error instanceof RuntimeTimeoutError, String(error));
    assert.match(error.message, /^ONNX Runtime did not finish running ".*hang\.onnx" within 3 s; its process was stopped\.$/);
    assert.ok(elapsed >= TIMEOUT_MS && elapsed < TIMEOUT_MS + STOP_SLACK_MS, `took ${elapsed} ms`);
    await assertStillWorks();
  });

  it('stops a hanging run at once when the caller aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('the user cancelled');
    setTimeout(() => controller.abort(reason), 300);
    const started = Date.now();
    const error = await rejection(benchmarkModels(runtime, [{ path: models['hang.onnx'] }], { ...QUICK, signal: controller.signal }));
    assert.equal(error, reason);
    assert.ok(Date.now() - started < 300 + STOP_SLACK_MS);
    await assertStillWorks();
  });

  it('reports a runtime process killed from outside (as the kernel does when memory runs out)', async () => {
    const session = await runtime.load({ name: 'hang.onnx', path: models['hang.onnx'] }, { intraOpThreads: 1 });
    const running = rejection(runtime.run([session], [{ name: 'x', type: 'float32', dims: [1], data: Float32Array.of(1) }]));
    setTimeout(() => session.process.kill('SIGKILL'), 300);
    const error = await running;
    assert.ok(error instanceof RuntimeCrashError, String(error));
    assert.equal(error.signal, 'SIGKILL');
    assert.match(error.message, /"hang\.onnx" \(signal SIGKILL, killed, often by the system for using too much memory\)/);
    await assert.rejects(runtime.run([session], []), (stale: Error) => stale instanceof InvalidArgumentError
      && stale.message === 'The session of "hang.onnx" ended with its runtime process; load the model again.');
    await assertStillWorks();
  });

  it('refuses a graph that allocates beyond any limit, naming the model and the node', async () => {
    const error = await rejection(benchmarkModels(runtime, [{ path: models['huge.onnx'] }], QUICK));
    assert.ok(error instanceof RuntimeRefusedError, String(error));
    assert.equal(error.node, 'huge_fill');
    assert.match(error.message, /^ONNX Runtime could not run ".*huge\.onnx" at node "huge_fill": Failed to allocate memory .*\. The inputs were x: float32\[1\]\.$/);
    await assertStillWorks();
  });

  it('refuses at load an op from an unknown domain, naming the node that ORT names only by op', async () => {
    const error = await rejection(compareModels(runtime, { path: models['unknown-op.onnx'] }, { path: models['unknown-op.onnx'] }, QUICK));
    assert.ok(error instanceof RuntimeRefusedError, String(error));
    assert.equal(error.phase, 'load');
    assert.equal(error.node, 'mystery');
    assert.match(error.message, /^ONNX Runtime could not load ".*unknown-op\.onnx" at node "mystery": .*com\.example\.unknown:Frobnicate.*\.$/);
  });

  it('leaves a plain Node caller running and exiting normally after a crash', () => {
    // A separate process, so that "survives" means its own exit code and not mocha's.
    const script = `
      const { OrtRuntime, benchmarkModels } = require(${JSON.stringify(path.join(REPO_ROOT, 'out/src/core'))});
      const runtime = new OrtRuntime();
      benchmarkModels(runtime, [{ path: ${JSON.stringify(models['crash.onnx'])} }])
        .catch((error) => console.log('caught ' + error.code))
        .finally(() => runtime.dispose());`;
    const caller = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(caller.signal, null);
    assert.equal(caller.status, 0, caller.stderr);
    assert.equal(caller.stdout.trim(), 'caught runtime-crash');
  });
});

/** Takes what the crashing model takes, and runs fine. */
function int32IdentityModel(): Uint8Array {
  return encode(model(graph({ nodes: [node('Identity', ['x'], ['y'])], inputs: [valueInfo('x', DataType.INT32, [1])], outputs: [valueInfo('y', DataType.INT32, [1])] })));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the promise to reject');
}
