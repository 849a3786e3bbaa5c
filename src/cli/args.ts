/**
 * The command line of onnx-lens, parsed and checked into one typed
 * invocation per command. Everything a user can get wrong is a UsageError.
 */
import * as path from 'node:path';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { InputOptions, MeasureOptions } from '../core';

export const USAGE = `Usage: onnx-lens COMMAND ARGUMENTS [OPTIONS]

Commands:
  inspect MODEL               the model overview and every weight with the nodes that use it
  quantize MODEL -o OUT --mode int8|dynamic|fp16|int4 [--layers NAME,...] [--per-tensor]
                              write a quantized copy of the model
  prune MODEL -o OUT (--threshold T | --sparsity S | --global-sparsity S | --channels F) [--layers NAME,...]
                              write a pruned copy of the model
  bench MODEL [OTHER]         latency of a model; of two, interleaved, with the change from MODEL to OTHER
  compare A B                 size, output fidelity and latency of B against A, on the same inputs

Inputs (bench, compare):
  --shape NAME=D1,D2,...      the shape of input NAME; symbolic dimensions otherwise default to 1
  --value NAME=V              fill input NAME with V (a sample rate, a length, a flag)
  --inputs DIR                real inputs: NAME.npy or NAME.pb files (or input_<i>.pb), or subfolders of them, one set each
  --samples N                 input sets to synthesise for compare (default 3)
Timing (bench, compare):
  --runs N                    timed rounds, each running every model once (default 50; compare --runs 0 skips timing)
  --warmup N                  runs of each model before timing (default 5)
  --threads N                 ONNX Runtime threads per operator (default 1)
  --timeout SECONDS           stop a model load or run that takes longer (default 120)
Output:
  --external-data             (quantize, prune) the weights in one data file beside OUT, named OUT.data; without it
                              they go there only when the model keeps its weights in external data or passes 2 GB
  --json                      the full result as JSON, for scripts
  -h, --help                  this help

Exit codes: 0 success, 2 bad usage or inputs that do not fit the model, 3 a model that cannot be read,
4 ONNX Runtime failed on a model (refused, crashed or timed out) or any other failure.
`;

export class UsageError extends Error {}

export type QuantizeMode = 'int8' | 'dynamic' | 'fp16' | 'int4';
export const QUANTIZE_MODES: readonly QuantizeMode[] = ['int8', 'dynamic', 'fp16', 'int4'];

export type PruneCriterion =
  | { readonly kind: 'threshold'; readonly value: number }
  | { readonly kind: 'sparsity'; readonly value: number }
  | { readonly kind: 'global-sparsity'; readonly value: number }
  | { readonly kind: 'channels'; readonly value: number };

export interface MeasureFlags {
  readonly measure: Omit<MeasureOptions, 'signal' | 'onProgress'>;
  readonly timeoutMs?: number;
}

export type Invocation =
  | { readonly command: 'help' }
  | { readonly command: 'inspect'; readonly model: string; readonly json: boolean }
  | { readonly command: 'bench'; readonly models: string[]; readonly json: boolean } & MeasureFlags
  | { readonly command: 'compare'; readonly before: string; readonly after: string; readonly json: boolean } & MeasureFlags
  | { readonly command: 'quantize'; readonly model: string; readonly output: string; readonly mode: QuantizeMode; readonly layers?: string[]; readonly perTensor: boolean; readonly externalData: boolean; readonly json: boolean }
  | { readonly command: 'prune'; readonly model: string; readonly output: string; readonly criterion: PruneCriterion; readonly layers?: string[]; readonly externalData: boolean; readonly json: boolean };

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

const COMMON: Options = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };
const INPUTS: Options = { shape: { type: 'string', multiple: true }, value: { type: 'string', multiple: true }, inputs: { type: 'string' } };
const TIMING: Options = { runs: { type: 'string' }, warmup: { type: 'string' }, threads: { type: 'string' }, timeout: { type: 'string' } };
const WRITE: Options = { output: { type: 'string', short: 'o' }, layers: { type: 'string', multiple: true }, 'external-data': { type: 'boolean' } };
const PRUNE_CRITERIA = ['threshold', 'sparsity', 'global-sparsity', 'channels'] as const;

const COMMANDS = {
  inspect: { positionals: [1, 1], options: COMMON },
  bench: { positionals: [1, 2], options: { ...COMMON, ...INPUTS, ...TIMING } },
  compare: { positionals: [2, 2], options: { ...COMMON, ...INPUTS, ...TIMING, samples: { type: 'string' } } },
  quantize: { positionals: [1, 1], options: { ...COMMON, ...WRITE, mode: { type: 'string' }, 'per-tensor': { type: 'boolean' } } },
  prune: { positionals: [1, 1], options: { ...COMMON, ...WRITE, ...Object.fromEntries(PRUNE_CRITERIA.map((name) => [name, { type: 'string' }])) } },
} satisfies Record<string, { positionals: [number, number]; options: Options }>;

type CommandName = keyof typeof COMMANDS;

export function parseInvocation(argv: readonly string[]): Invocation {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('Name a command.');
  if (command === '--help' || command === '-h' || command === 'help') return { command: 'help' };
  if (!(command in COMMANDS)) throw new UsageError(`There is no command ${JSON.stringify(command)}.`);
  const name = command as CommandName;
  const { values, positionals } = parseCommandLine(name, rest);
  if (values.help) return { command: 'help' };
  const [fewest, most] = COMMANDS[name].positionals;
  if (positionals.length < fewest || positionals.length > most) {
    const wanted = fewest === most ? `${fewest}` : `${fewest} or ${most}`;
    throw new UsageError(`${name} takes ${wanted} model${most > 1 ? 's' : ''}, not ${positionals.length}.`);
  }
  const json = values.json === true;
  switch (name) {
    case 'inspect': return { command: name, model: positionals[0], json };
    case 'bench': return { command: name, models: positionals, json, ...measureFlags(values, 1) };
    case 'compare': return { command: name, before: positionals[0], after: positionals[1], json, ...measureFlags(values, 0) };
    case 'quantize': return { command: name, model: positionals[0], json, ...quantizeFlags(positionals[0], values) };
    case 'prune': return { command: name, model: positionals[0], json, ...pruneFlags(positionals[0], values) };
  }
}

function parseCommandLine(name: CommandName, args: string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args, options: COMMANDS[name].options, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (error) {
    // parseArgs explains itself well ("Unknown option '--bogus'"); its advice on dashes is for programmers.
    throw new UsageError(`${name}: ${(error as Error).message.split('\n')[0]}`);
  }
}

function measureFlags(values: Values, minimumRounds: number): MeasureFlags {
  const inputs: InputOptions = {
    shapes: namedEntries(values.shape, 'shape', parseShape),
    values: namedEntries(values.value, 'value', (text) => parseNumber(text, '--value')),
    folder: values.inputs as string | undefined,
    samples: wholeNumber(values.samples, '--samples', 1),
  };
  const timeout = values.timeout === undefined ? undefined : parseNumber(values.timeout as string, '--timeout');
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds, not ${values.timeout}.`);
  return {
    measure: {
      inputs,
      rounds: wholeNumber(values.runs, '--runs', minimumRounds),
      warmupRuns: wholeNumber(values.warmup, '--warmup', 0),
      threads: wholeNumber(values.threads, '--threads', 1),
    },
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
  };
}

function quantizeFlags(model: string, values: Values) {
  const mode = values.mode as string | undefined;
  if (mode === undefined) throw new UsageError(`quantize needs --mode ${QUANTIZE_MODES.join('|')}.`);
  if (!QUANTIZE_MODES.includes(mode as QuantizeMode)) throw new UsageError(`--mode must be one of ${QUANTIZE_MODES.join(', ')}, not ${JSON.stringify(mode)}.`);
  return { ...writeFlags(model, values), mode: mode as QuantizeMode, perTensor: values['per-tensor'] === true };
}

function pruneFlags(model: string, values: Values) {
  const given = PRUNE_CRITERIA.filter((name) => values[name] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(`prune needs exactly one of ${PRUNE_CRITERIA.map((name) => `--${name}`).join(', ')}${given.length > 1 ? `, not ${given.map((name) => `--${name}`).join(' and ')}` : ''}.`);
  }
  const kind = given[0];
  const value = parseNumber(values[kind] as string, `--${kind}`);
  if (kind === 'threshold' ? value < 0 : value < 0 || value >= 1) {
    throw new UsageError(kind === 'threshold' ? `--threshold must not be negative, not ${value}.` : `--${kind} must be a fraction from 0 up to (not including) 1, not ${value}.`);
  }
  return { ...writeFlags(model, values), criterion: { kind, value } };
}

/** What every command that writes a model takes: the output, the layers, and whether weights go to external data. */
function writeFlags(model: string, values: Values) {
  return { output: outputPath(model, values), layers: layerList(values), externalData: values['external-data'] === true };
}

/** The output of a pass must not replace its input: the original is what deltas are measured against. */
function outputPath(model: string, values: Values): string {
  const output = values.output as string | undefined;
  if (!output) throw new UsageError('Name the file to write with -o OUT.');
  if (path.resolve(output) === path.resolve(model)) throw new UsageError(`-o ${JSON.stringify(output)} is the model itself; write the result to another file.`);
  return output;
}

/** --layers a,b --layers c gives [a, b, c]. */
function layerList(values: Values): string[] | undefined {
  const lists = values.layers as string[] | undefined;
  if (!lists) return undefined;
  const layers = lists.flatMap((list) => list.split(',')).map((name) => name.trim());
  if (layers.some((name) => name === '')) throw new UsageError(`--layers needs comma-separated layer names, not ${JSON.stringify(lists.join(','))}.`);
  return layers;
}

/** "NAME=REST", split at the last "=" (input names may contain one), into a record by name. */
function namedEntries<T>(entries: unknown, flag: string, parse: (text: string) => T): Record<string, T> | undefined {
  if (!entries) return undefined;
  const record: Record<string, T> = {};
  for (const entry of entries as string[]) {
    const split = entry.lastIndexOf('=');
    if (split <= 0) throw new UsageError(`--${flag} wants NAME=${flag === 'shape' ? 'D1,D2,...' : 'V'}, not ${JSON.stringify(entry)}.`);
    record[entry.slice(0, split)] = parse(entry.slice(split + 1));
  }
  return record;
}

/** "1,3,224,224"; empty for a scalar. */
function parseShape(text: string): number[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const dim = Number(part.trim());
    if (!/^\d+$/.test(part.trim()) || !Number.isSafeInteger(dim)) throw new UsageError(`--shape dimensions must be whole numbers, not ${JSON.stringify(text)}.`);
    return dim;
  });
}

function parseNumber(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag} must be a number, not ${JSON.stringify(text)}.`);
  return value;
}

function wholeNumber(text: unknown, flag: string, minimum: number): number | undefined {
  if (text === undefined) return undefined;
  const value = parseNumber(text as string, flag);
  if (!Number.isInteger(value) || value < minimum) throw new UsageError(`${flag} must be a whole number of at least ${minimum}, not ${text}.`);
  return value;
}
