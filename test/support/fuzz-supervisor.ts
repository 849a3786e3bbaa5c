/**
 * The parent side of the fuzz loop: runs fuzz cases in a child process
 * (fuzz-child.js) with a capped heap, counts each case's outcome, and when a
 * case kills the child (stack overflow, out of memory) or shows no progress
 * for `caseTimeoutMs`, records it as a crash or a hang and resumes after it
 * in a fresh child.
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { CaseReport, ChildStart } from './fuzz-child';

const CHILD_SCRIPT = path.join(__dirname, 'fuzz-child.js');
/** The child's heap cap: far above what any case needs, far below what would starve the machine. */
const CHILD_HEAP_MB = 1024;
/** How much of a dead child's stderr to keep: its first lines say why it died. */
const STDERR_HEAD_CHARS = 2000;

export interface FuzzOptions extends Omit<ChildStart, 'from' | 'to'> {
  readonly cases: number;
  readonly seconds: number;
  readonly caseTimeoutMs: number;
}

export interface Failure {
  readonly index: number;
  /** What the case was, when the child reported it; empty for a case that hung or killed the child. */
  readonly description: string;
  readonly error: string;
}

export interface FuzzTally {
  tried: number;
  typed: number;
  opened: number;
  openedWithWeightErrors: number;
  crashes: Failure[];
  hangs: Failure[];
  peakRssKb: number;
  slowest?: CaseReport;
  seconds: number;
}

/** Runs cases 0.. until `cases` are tried or `seconds` have passed. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzTally> {
  const tally: FuzzTally = { tried: 0, typed: 0, opened: 0, openedWithWeightErrors: 0, crashes: [], hangs: [], peakRssKb: 0, seconds: 0 };
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  for (let next = 0; next < options.cases && Date.now() < deadline;) {
    const { cases, seconds, caseTimeoutMs, ...start } = options;
    next = await runChild({ ...start, from: next, to: cases }, deadline, caseTimeoutMs, tally);
  }
  tally.seconds = (Date.now() - started) / 1000;
  return tally;
}

/** Runs one child from `start.from` until it finishes, dies, hangs or the deadline passes; returns the next index to run. */
function runChild(start: ChildStart, deadline: number, caseTimeoutMs: number, tally: FuzzTally): Promise<number> {
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
    const hangTimer = setTimeout(() => {
      tally.tried++;
      tally.hangs.push({ index: next, description: '', error: `no progress for ${caseTimeoutMs / 1000} s` });
      stop(next + 1);
    }, caseTimeoutMs);
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
        tally.crashes.push({ index: next, description: '', error: `the child died (${signal ?? `exit code ${code}`}): ${stderrHead.trim()}` });
        return stop(next + 1);
      }
      stop(next);
    });
  });
}

function record(report: CaseReport, tally: FuzzTally): void {
  tally.tried++;
  tally.peakRssKb = Math.max(tally.peakRssKb, report.maxRssKb);
  if (!tally.slowest || report.milliseconds > tally.slowest.milliseconds) tally.slowest = report;
  if (report.outcome === 'typed') tally.typed++;
  if (report.outcome === 'opened') tally.opened++;
  if (report.outcome === 'opened' && report.weightErrors > 0) tally.openedWithWeightErrors++;
  if (report.outcome === 'crash') tally.crashes.push({ index: report.index, description: report.description, error: report.error ?? '' });
}
