/**
 * A seeded fuzz loop over the whole open path: mutated seed models (built and
 * real) opened in a supervised child process (fuzz-supervisor.ts), which
 * turns a case that kills the child into a crash and one that stops making
 * progress into a hang, and resumes after both.
 *
 * Bounded by a case count and by time. Override with FUZZ_SEED, FUZZ_CASES and
 * FUZZ_SECONDS to fuzz longer or replay a run.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Failure, runFuzz } from '../support/fuzz-supervisor';
import { EXTERNAL_DATA_FILE, fuzzCase, fuzzSeeds } from '../support/hostile-models';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const CASES = Number(process.env.FUZZ_CASES ?? 20000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
/** A case with no report for this long is a hang: the slowest legitimate case (a real model) takes well under a second. */
const CASE_TIMEOUT_MS = 10_000;

function listFailures(kind: string, seed: number, failures: readonly Failure[]): string {
  // A case that hung or killed its child never said what it was: generate it again here.
  const describe = (f: Failure) => f.description || fuzzCase(fuzzSeeds(), seed, f.index).description;
  return failures.map((f) => `  ${kind} seed ${seed} index ${f.index} (${describe(f)}): ${f.error}\n`).join('');
}

describe('fuzzing the open path with hostile inputs', function () {
  this.timeout((SECONDS + 60) * 1000);
  let externalDataFolder: string;

  before(() => {
    externalDataFolder = mkdtempSync(path.join(tmpdir(), 'onnx-lens-fuzz-'));
    writeFileSync(path.join(externalDataFolder, EXTERNAL_DATA_FILE.name), EXTERNAL_DATA_FILE.bytes);
  });

  after(() => rmSync(externalDataFolder, { recursive: true, force: true }));

  it(`opens every mutated model with a typed error or successfully, without crashes or hangs (seed ${SEED})`, async () => {
    const tally = await runFuzz({ seed: SEED, cases: CASES, seconds: SECONDS, caseTimeoutMs: CASE_TIMEOUT_MS, externalDataFolder });
    console.log(
      `      hostile inputs: ${tally.tried} tried, ${tally.typed} typed errors, ${tally.opened} opened (${tally.openedWithWeightErrors} with typed weight errors), ` +
      `${tally.crashes.length} crashes, ${tally.hangs.length} hangs, ${tally.seconds.toFixed(1)} s, peak child RSS ${Math.round(tally.peakRssKb / 1024)} MB, ` +
      `slowest case #${tally.slowest?.index}: ${Math.round(tally.slowest?.milliseconds ?? 0)} ms (seed ${SEED})`);
    assert.equal(tally.typed + tally.opened + tally.crashes.length + tally.hangs.length, tally.tried);
    assert.ok(tally.typed > 0 && tally.opened > 0, 'the corpus should hold both models that open and models that do not');
    assert.equal(tally.crashes.length + tally.hangs.length, 0, `\n${listFailures('crash', SEED, tally.crashes)}${listFailures('hang', SEED, tally.hangs)}`);
  });

  it('records a case that kills the child as a crash and one that stalls as a hang, and resumes after each', async () => {
    const tally = await runFuzz({
      seed: SEED, cases: 8, seconds: 60, caseTimeoutMs: 2000, externalDataFolder, sabotage: { dieAt: 2, stallAt: 5 },
    });
    assert.equal(tally.tried, 8);
    assert.deepEqual(tally.crashes.map((f) => f.index), [2]);
    assert.match(tally.crashes[0].error, /the child died \(SIGKILL\)/);
    assert.deepEqual(tally.hangs.map((f) => f.index), [5]);
    assert.equal(tally.typed + tally.opened, 6);
  });
});
