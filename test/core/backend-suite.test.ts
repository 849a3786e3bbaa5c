/**
 * Runs the codec over the ONNX backend test suite (Debian's libonnx-testdata):
 * every model must decode and survive re-encoding unchanged, and ONNX Runtime
 * must compute the same outputs from the re-encoded model as from the original.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Long from 'long';
import { decodeModel, encodeModel, forEachGraphScope, onnx, OnnxModel } from '../../src/core';
import { PlainTensor } from '../support/ort-protocol';
import { OrtRunner, RunOutcome } from '../support/ort-runner';
import { FeedConversionError, outputDifference, readFeedSets } from '../support/ort-tensors';

const SUITE_ROOT = '/usr/share/libonnx-testdata/data';
const SUITE_PACKAGE = 'libonnx-testdata';
const MODEL_FILE = 'model.onnx';
/** Past this, ORT is taken to hang on the model and its process is killed. */
const RUN_TIMEOUT_MS = 20_000;
/** For each test and hook: the ORT test runs the whole suite. */
const TEST_TIMEOUT_MS = 10 * 60_000;
const TOP_SKIP_REASONS = 5;
const MAX_REASON_CHARS = 100;
/** ORT's "/onnxruntime_src/.../file.cc:123 " prefix on exceptions. */
const SOURCE_LOCATION = /\/\S+:\d+ /;
const QUOTED_NAME = /'[^']*'/g;
/** "Add(6)", "ai.onnx.preview.training:Adam(-1)". */
const OP_WITH_VERSION = /[\w.:]+\(-?\d+\)/g;
/** Ops whose outputs may change from run to run: models with them need only run, not match. */
const RANDOM_OPS: ReadonlySet<string> = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Bernoulli', 'Multinomial']);
/** Dropout is random when given its third input, training_mode. */
const DROPOUT_TRAINING_MODE_INPUT = 2;

interface SuiteModel {
  /** Relative to SUITE_ROOT, e.g. "node/test_abs". */
  name: string;
  dir: string;
  bytes: Uint8Array;
}

class Tally {
  decoded = 0;
  equalAfterReencode = 0;
  byteIdentical = 0;
  ranByOrt = 0;
  sameOutputs = 0;
  randomRan = 0;
  skipReasons = new Map<string, number>();
  crashed: string[] = [];
  hung: string[] = [];

  /** Reasons are grouped across models: the names of nodes, inputs and ops in them give way to placeholders. */
  skip(reason: string): void {
    const kind = firstLine(reason).replace(SOURCE_LOCATION, '').replace(QUOTED_NAME, '<name>').replace(OP_WITH_VERSION, '<op>')
      .slice(0, MAX_REASON_CHARS);
    this.skipReasons.set(kind, (this.skipReasons.get(kind) ?? 0) + 1);
  }

  summary(models: number, seconds: number): string {
    const skipped = [...this.skipReasons.values()].reduce((sum, count) => sum + count, 0);
    const topReasons = [...this.skipReasons].sort((a, b) => b[1] - a[1]).slice(0, TOP_SKIP_REASONS)
      .map(([reason, count]) => `${count}x ${reason}`).join('; ');
    return [
      `backend suite: ${models} models, ${this.decoded} decoded, ${this.equalAfterReencode} equal after re-encode (${this.byteIdentical} byte-identical), `
      + `${this.ranByOrt} run by ORT, ${this.sameOutputs} same outputs, ${this.randomRan} with random ops only run, `
      + `${skipped} skipped by ORT (${topReasons}), ${this.crashed.length} crashed, ${this.hung.length} hung, in ${seconds.toFixed(0)} s`,
      ...this.crashed.map((model) => `  crashed ORT: ${model}`),
      ...this.hung.map((model) => `  hung: ${model}`),
    ].join('\n');
  }
}

describe('ONNX backend test suite', function () {
  this.timeout(TEST_TIMEOUT_MS);
  const tally = new Tally();
  let models: SuiteModel[] = [];
  let started = 0;

  before(async () => {
    started = Date.now();
    models = await loadSuite();
  });

  after(() => {
    if (models.length > 0) console.log(tally.summary(models.length, (Date.now() - started) / 1000));
  });

  it('decodes every model, and re-encodes it to an equal model', () => {
    const failures = models.flatMap((model) => {
      const failure = roundTripFailure(model, tally);
      return failure ? [`${model.name}: ${failure}`] : [];
    });
    assertNoFailures(failures);
  });

  it('opens every model and reads every weight it finds', async () => {
    const failures: string[] = [];
    for (const model of models) {
      try {
        const opened = OnnxModel.fromBytes(model.bytes);
        opened.overview();
        for (const weight of opened.weights()) await weight.tensor.values();
      } catch (error) {
        failures.push(`${model.name}: ${messageOf(error)}`);
      }
    }
    assertNoFailures(failures);
  });

  it('gets the same outputs from ONNX Runtime for the original and the re-encoded model', async () => {
    const runner = new OrtRunner();
    const failures: string[] = [];
    try {
      for (const model of models) {
        const failure = await ortFailure(model, runner, tally);
        if (failure) failures.push(`${model.name}: ${failure}`);
      }
    } finally {
      runner.close();
    }
    assertNoFailures(failures);
  });
});

async function loadSuite(): Promise<SuiteModel[]> {
  const categories = await fs.readdir(SUITE_ROOT).catch(() => {
    assert.fail(`The ONNX backend test suite is missing from ${SUITE_ROOT}: install it with "apt-get install ${SUITE_PACKAGE}".`);
  });
  const models: SuiteModel[] = [];
  for (const category of categories.sort()) {
    for (const test of (await fs.readdir(path.join(SUITE_ROOT, category))).sort()) {
      const dir = path.join(SUITE_ROOT, category, test);
      const bytes = await fs.readFile(path.join(dir, MODEL_FILE)).catch(() => undefined);
      if (bytes) models.push({ name: `${category}/${test}`, dir, bytes });
    }
  }
  assert.ok(models.length > 0, `No ${MODEL_FILE} under ${SUITE_ROOT}: reinstall ${SUITE_PACKAGE}.`);
  return models;
}

/** Why the model does not decode or changes when re-encoded; undefined when it round-trips. */
function roundTripFailure(model: SuiteModel, tally: Tally): string | undefined {
  let decoded: onnx.ModelProto;
  try {
    decoded = decodeModel(model.bytes);
  } catch (error) {
    return `does not decode: ${messageOf(error)}`;
  }
  tally.decoded++;
  const encoded = encodeModel(decoded);
  let redecoded: onnx.ModelProto;
  try {
    redecoded = decodeModel(encoded);
  } catch (error) {
    return `the re-encoded model does not decode: ${messageOf(error)}`;
  }
  const difference = firstDifference(decoded, redecoded, 'model');
  if (difference) return `the re-encoded model differs at ${difference}`;
  if (!sameBytes(encodeModel(redecoded), encoded)) return 'encoding the re-encoded model again changes its bytes';
  tally.equalAfterReencode++;
  if (sameBytes(encoded, model.bytes)) tally.byteIdentical++;
  return undefined;
}

/** The path and values where two decoded messages first differ; undefined when they are equal. Long compares by value. */
function firstDifference(a: unknown, b: unknown, at: string): string | undefined {
  if (Long.isLong(a) || Long.isLong(b)) {
    return Long.isLong(a) && Long.isLong(b) && (a as Long).equals(b as Long) ? undefined : `${at}: ${String(a)} vs ${String(b)}`;
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && sameBytes(a, b) ? undefined : `${at}: bytes differ`;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) return `${at}: ${a.length} vs ${b.length} entries`;
  if (isObject(a) && isObject(b) && Array.isArray(a) === Array.isArray(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const difference = firstDifference(a[key], b[key], Array.isArray(a) ? `${at}[${key}]` : `${at}.${key}`);
      if (difference) return difference;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${at}: ${String(a)} vs ${String(b)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/**
 * Runs the original and the re-encoded model under ORT. Models that ORT cannot
 * run in the first place are tallied, not failed; a failure is a re-encoded
 * model that ORT no longer runs, or that gives other outputs.
 */
async function ortFailure(model: SuiteModel, runner: OrtRunner, tally: Tally): Promise<string | undefined> {
  let decoded: onnx.ModelProto;
  try {
    decoded = decodeModel(model.bytes);
  } catch {
    tally.skip('the core does not decode it (see the round-trip test)');
    return undefined;
  }
  let feedSets: PlainTensor[][];
  try {
    feedSets = await readFeedSets(model.dir, decoded);
  } catch (error) {
    if (!(error instanceof FeedConversionError)) throw error;
    tally.skip(`input conversion: ${error.message}`);
    return undefined;
  }
  const [original, reencoded] = await runner.run({ models: [model.bytes, encodeModel(decoded)], feedSets }, RUN_TIMEOUT_MS);
  if (original.kind !== 'ran') {
    tallyNotRun(model, original, tally);
    return undefined;
  }
  tally.ranByOrt++;
  if (reencoded.kind !== 'ran') return `ORT ran the original model but not the re-encoded one: ${describeNotRun(reencoded)}`;
  if (usesRandomOps(decoded)) {
    tally.randomRan++;
    return undefined;
  }
  const difference = outputDifference(original.outputSets, reencoded.outputSets);
  if (difference) return `ORT outputs differ after re-encoding: ${difference}`;
  tally.sameOutputs++;
  return undefined;
}

function tallyNotRun(model: SuiteModel, outcome: Exclude<RunOutcome, { kind: 'ran' }>, tally: Tally): void {
  if (outcome.kind === 'failed') tally.skip(outcome.error);
  else if (outcome.kind === 'crashed') tally.crashed.push(`${model.name} (${outcome.detail})`);
  else tally.hung.push(model.name);
}

function describeNotRun(outcome: Exclude<RunOutcome, { kind: 'ran' }>): string {
  if (outcome.kind === 'failed') return firstLine(outcome.error);
  return outcome.kind === 'crashed' ? `crashed: ${outcome.detail}` : `hung for ${RUN_TIMEOUT_MS / 1000} s`;
}

function usesRandomOps(model: onnx.IModelProto): boolean {
  let random = false;
  forEachGraphScope(model, (scope) => {
    random ||= scope.nodes.some((node) => RANDOM_OPS.has(node.opType ?? '')
      || (node.opType === 'Dropout' && Boolean(node.input?.[DROPOUT_TRAINING_MODE_INPUT])));
  });
  return random;
}

function assertNoFailures(failures: string[]): void {
  assert.equal(failures.length, 0, `${failures.length} models failed:\n${failures.join('\n')}`);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0].trim();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
