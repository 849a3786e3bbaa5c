/**
 * The test's side of ort-child.js: sends one request at a time to a child
 * process running ONNX Runtime, and starts a fresh child after one crashed or
 * was killed for taking too long.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { PlainTensor, RunReply, RunRequest } from './ort-protocol';

const CHILD_SCRIPT = path.join(__dirname, 'ort-child.js');
/** How much of a child's stderr to keep per request: its first line says why the child crashed. */
const STDERR_HEAD_CHARS = 1000;

export type RunOutcome =
  | { kind: 'ran'; outputSets: PlainTensor[][] }
  /** ORT refused the model or its feeds; `error` starts with "feed:", "load:" or "run:". */
  | { kind: 'failed'; error: string }
  | { kind: 'crashed'; detail: string }
  | { kind: 'hung' };

export class OrtRunner {
  private child?: ChildProcess;
  private stderrHead = '';

  /**
   * One outcome per model of the request, in order, up to the first that did
   * not run. A model that takes longer than `timeoutMs` is reported as hung
   * and its child killed.
   */
  run(request: RunRequest, timeoutMs: number): Promise<RunOutcome[]> {
    const child = this.child ?? this.start();
    const outcomes: RunOutcome[] = [];
    this.stderrHead = '';
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        finish({ kind: 'hung' });
        this.close();
      }, timeoutMs);
      const finish = (last?: RunOutcome): void => {
        clearTimeout(timer);
        child.off('message', onReply);
        child.off('close', onClose);
        if (last) outcomes.push(last);
        resolve(outcomes);
      };
      const onReply = (reply: RunReply): void => {
        if (!reply.ok) return finish({ kind: 'failed', error: reply.error });
        outcomes.push({ kind: 'ran', outputSets: reply.outputSets });
        if (outcomes.length === request.models.length) return finish();
        timer.refresh();
      };
      const onClose = (code: number | null, signal: NodeJS.Signals | null): void => {
        const why = this.stderrHead.trim().split('\n', 1)[0];
        finish({ kind: 'crashed', detail: `child exited with ${signal ?? `code ${code}`}${why ? `: ${why}` : ''}` });
      };
      child.on('message', onReply);
      child.on('close', onClose);
      child.send(request, (error) => {
        if (!error) return;
        finish({ kind: 'crashed', detail: `could not send the request to the child: ${error.message}` });
        this.close();
      });
    });
  }

  close(): void {
    this.child?.kill();
    this.child = undefined;
  }

  private start(): ChildProcess {
    const child = fork(CHILD_SCRIPT, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (child === this.child && this.stderrHead.length < STDERR_HEAD_CHARS) this.stderrHead += chunk;
    });
    child.on('close', () => {
      if (child === this.child) this.child = undefined;
    });
    this.child = child;
    return child;
  }
}
