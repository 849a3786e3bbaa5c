import { OnnxLensError } from '../core';
import { inspectCommand } from './inspect';

const USAGE = `Usage: onnx-lens inspect MODEL [--json]

Commands:
  inspect MODEL   print the model overview and every weight with the nodes that use it
Options:
  --json          print the full report as JSON
`;

/** Exit codes a script can tell apart. */
const EXIT = { usage: 2, badModel: 3, failure: 4 } as const;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json');
  const positional = rest.filter((arg) => !arg.startsWith('--'));
  const unknownFlags = rest.filter((arg) => arg.startsWith('--') && arg !== '--json');
  if (command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'inspect' || positional.length !== 1 || unknownFlags.length > 0) {
    process.stderr.write(USAGE);
    return EXIT.usage;
  }
  try {
    process.stdout.write(`${await inspectCommand(positional[0], { json })}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`onnx-lens: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof OnnxLensError ? EXIT.badModel : EXIT.failure;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
