import { InputDataError, InvalidArgumentError, ModelRuntimeError, OnnxLensError, PassNotApplicableError } from '../core';
import { Invocation, parseInvocation, USAGE, UsageError } from './args';
import { inspectCommand } from './inspect';
import { benchCommand, compareCommand, CommandContext } from './measure-commands';
import { pruneCommand, quantizeCommand } from './pass-commands';

/** Exit codes a script can tell apart. */
const EXIT = { usage: 2, badModel: 3, failure: 4, interrupted: 130 } as const;

class Interrupted extends Error {}

async function main(argv: string[]): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = parseInvocation(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`onnx-lens: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (invocation.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Interrupted('Interrupted.')));
  try {
    process.stdout.write(`${await execute(invocation, { signal: controller.signal, progress: process.stderr })}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`onnx-lens: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitCode(error);
  }
}

function execute(invocation: Exclude<Invocation, { command: 'help' }>, context: CommandContext): Promise<string> {
  switch (invocation.command) {
    case 'inspect': return inspectCommand(invocation.model, { json: invocation.json });
    case 'bench': return benchCommand(invocation.models, invocation, context);
    case 'compare': return compareCommand(invocation.before, invocation.after, invocation, context);
    case 'quantize': return quantizeCommand(invocation, context);
    case 'prune': return pruneCommand(invocation, context);
  }
}

function exitCode(error: unknown): number {
  if (error instanceof Interrupted) return EXIT.interrupted;
  if (error instanceof InvalidArgumentError || error instanceof InputDataError || error instanceof PassNotApplicableError) return EXIT.usage;
  if (error instanceof ModelRuntimeError) return EXIT.failure;
  return error instanceof OnnxLensError ? EXIT.badModel : EXIT.failure;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
