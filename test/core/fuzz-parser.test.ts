/**
 * A seeded fuzz loop over the whole open path: mutated seed models (built and
 * real) are opened in a child process that reports each case; a case that
 * kills the child (stack overflow, out of memory) is a crash, one that shows
 * no progress for CASE_TIMEOUT_MS is a hang, and the loop resumes after both.
 *
 * Bounded by a case count and by time. Override with FUZZ_SEED, FUZZ_CASES and
 * FUZZ_SECONDS to fuzz longer or replay a run.
 */
import { strict as assert } from 'node:assert';
import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { CaseReport, ChildStart } from '../support/fuzz-child';
import { fuzzCase, fuzzSeeds } from '../support/hostile-models';

const CHILD_SCRIPT = path.join(__dirname, '../support/fuzz-child.js');
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const CASES = Number(process.env.FUZZ_CASES ?? 20000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
/** A case with no report for this long is a hang: the slowest legitimate case (a real model) takes well under a second. */
const CASE_TIMEOUT_MS = 10_000;
/** The child's heap cap: far above what any case needs, far below what would starve the machine. */
const CHILD_HEAP_MB = 1024;
/** How much of a dead child's stderr to keep: its first lines say why it died. */
const STDERR_HEAD_CHARS = 2000;

interface Failure {
  readonly index: number;
  readonly description: string;
  readonly error: string;
}

interface Tally {
  tried: number;
  typed: number;
  opened: number;
  openedWithWeightErrors: number;
  crashes: Failure[];
  hangs: Failure[];
  peakRssKb: number;
  slowest?: CaseReport;
}

/** Runs one child from `from` until it finishes, dies, hangs or the deadline passes; returns the next index to run. */
function runChild(start: ChildStart, deadline: number, tally: Tally): Promise<number> {
  const child = fork(CHILD_SCRIPT, [JSON.stringify(start)], { execArgv: [`--max-old-space-size=${CHILD_HEAP_MB}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderrHead = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderrHead.length < STDERR_HEAD_CHARS) stderrHead += chunk.toString().slice(0, STDERR_HEAD_CHARS - stderrHead.length);
  });
  let next = start.from;
  return new Promise((resolve) => {
    let done = false;
    const stop = (nextIndex: number) => {
      if (done) return;
      done = true;
      clearTimeout(hangTimer);
      child.kill('SIGKILL');
      resolve(nextIndex);
    };
    const onHang = () => {
      tally.tried++;
      tally.hangs.push({ index: next, description: '', error: `no progress for ${CASE_TIMEOUT_MS / 1000} s` });
      stop(next + 1);
    };
    let hangTimer = setTimeout(onHang, CASE_TIMEOUT_MS);
    child.on('message', (report: CaseReport) => {
      record(report, tally);
      next = report.index + 1;
      hangTimer.refresh();
      if (Date.now() >= deadline || next >= start.to) stop(next);
    });
    child.on('exit', (code, signal) => {
      if (done) return;
      if (next < start.to) {
        tally.tried++;
        tally.crashes.push({ index: next, description: '', error: `child died (${signal ?? `exit code ${code}`}): ${stderrHead.trim()}` });
        stop(next + 1);
      } else {
        stop(next);
      }
    });
  });
}

function record(report: CaseReport, tally: Tally): void {
  tally.tried++;
  tally.peakRssKb = Math.max(tally.peakRssKb, report.maxRssKb);
  if (!tally.slowest || report.milliseconds > tally.slowest.milliseconds) tally.slowest = report;
  if (report.outcome === 'typed') tally.typed++;
  if (report.outcome === 'opened') tally.opened++;
  if (report.outcome === 'opened' && report.weightErrors > 0) tally.openedWithWeightErrors++;
  if (report.outcome === 'crash') tally.crashes.push({ index: report.index, description: report.description, error: report.error ?? '' });
}

function listFailures(kind: string, failures: readonly Failure[]): string {
  // A case that hung or killed its child never reported what it was: generate it again here.
  const seeds = failures.length > 0 ? fuzzSeeds() : [];
  const describe = (f: Failure) => f.description || fuzzCase(seeds, SEED, f.index).description;
  return failures.map((f) => `  ${kind} seed ${SEED} index ${f.index} (${describe(f)}): ${f.error}`).join('\n');
}

describe('fuzzing the open path with hostile inputs', function () {
  this.timeout((SECONDS + 60) * 1000);

  it(`opens every mutated model with a typed error or successfully, without crashes or hangs (seed ${SEED})`, async () => {
    const tally: Tally = { tried: 0, typed: 0, opened: 0, openedWithWeightErrors: 0, crashes: [], hangs: [], peakRssKb: 0 };
    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    for (let next = 0; next < CASES && Date.now() < deadline;) {
      next = await runChild({ seed: SEED, from: next, to: CASES }, deadline, tally);
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `      hostile inputs: ${tally.tried} tried, ${tally.typed} typed errors, ${tally.opened} opened (${tally.openedWithWeightErrors} with typed weight errors), ` +
      `${tally.crashes.length} crashes, ${tally.hangs.length} hangs, ${seconds.toFixed(1)} s, peak child RSS ${Math.round(tally.peakRssKb / 1024)} MB, ` +
      `slowest case ${tally.slowest?.index} ${Math.round(tally.slowest?.milliseconds ?? 0)} ms (seed ${SEED})`);
    assert.equal(tally.typed + tally.opened + tally.crashes.length + tally.hangs.length, tally.tried);
    assert.ok(tally.typed > 0 && tally.opened > 0, 'the corpus should hold both models that open and models that do not');
    assert.equal(tally.crashes.length + tally.hangs.length, 0, `\n${listFailures('crash', tally.crashes)}\n${listFailures('hang', tally.hangs)}`);
  });
});
