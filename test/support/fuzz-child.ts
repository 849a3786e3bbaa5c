/**
 * The fuzz loop's worker process: opens fuzz cases [from, to) of one seed the
 * whole way (openFully) and reports each one as it finishes, so that the
 * parent can tell a hang or a hard crash from progress and resume after it.
 */
import { FolderExternalDataReader, OnnxLensError } from '../../src/core';
import { fuzzCase, fuzzSeeds } from './hostile-models';
import { openFully } from './open-fully';

export interface ChildStart {
  readonly seed: number;
  readonly from: number;
  readonly to: number;
  /** Where external tensors are read from: a folder holding EXTERNAL_DATA_FILE. */
  readonly externalDataFolder: string;
  /** For testing the supervisor: die as the kernel's OOM killer would kill, or stall forever, at these case indices. */
  readonly sabotage?: { readonly dieAt?: number; readonly stallAt?: number };
}

export type CaseOutcome =
  /** The open stopped with a typed error. */
  | 'typed'
  /** The model opened; some weights may have failed with typed errors. */
  | 'opened'
  /** Something other than a typed error escaped. */
  | 'crash';

export interface CaseReport {
  readonly index: number;
  readonly outcome: CaseOutcome;
  readonly description: string;
  /** The error's class and message, for typed errors and crashes. */
  readonly error?: string;
  readonly weightErrors: number;
  readonly milliseconds: number;
  /** The child's peak resident memory so far. */
  readonly maxRssKb: number;
}

async function runCases({ seed, from, to, externalDataFolder, sabotage }: ChildStart): Promise<void> {
  const seeds = fuzzSeeds();
  const externalData = new FolderExternalDataReader(externalDataFolder);
  for (let index = from; index < to; index++) {
    if (index === sabotage?.dieAt) process.kill(process.pid, 'SIGKILL');
    while (index === sabotage?.stallAt) {
      // Busy, as a runaway loop would be: no report ever comes.
    }
    const started = performance.now();
    let description = `case ${index}: not generated`;
    let result: Pick<CaseReport, 'outcome' | 'error' | 'weightErrors'>;
    try {
      const generated = fuzzCase(seeds, seed, index);
      description = generated.description;
      const report = await openFully(generated.bytes, externalData);
      result = { outcome: 'opened', weightErrors: report.weightErrors.length };
    } catch (error) {
      result = { outcome: error instanceof OnnxLensError ? 'typed' : 'crash', error: describe(error), weightErrors: 0 };
    }
    const milliseconds = performance.now() - started;
    const report: CaseReport = { index, description, ...result, milliseconds, maxRssKb: process.resourceUsage().maxRSS };
    await new Promise<void>((resolve) => process.send!(report, () => resolve()));
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const where = error instanceof OnnxLensError ? '' : ` ${error.stack?.split('\n').find((line) => line.includes(' at ')) ?? ''}`.trimEnd();
  return `${error.name}: ${error.message}${where}`;
}

if (require.main === module) {
  void runCases(JSON.parse(process.argv[2]) as ChildStart).then(() => process.disconnect());
}
