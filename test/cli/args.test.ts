/** The command line, parsed: every command's arguments, and what a user can get wrong. */
import { strict as assert } from 'node:assert';
import { parseInvocation, UsageError } from '../../src/cli/args';

function usageError(argv: string[], message: RegExp): void {
  assert.throws(() => parseInvocation(argv), (error: Error) => {
    assert.ok(error instanceof UsageError, `${argv.join(' ')}: ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('CLI arguments', () => {
  it('parses inspect, bench and compare with their options', () => {
    assert.deepEqual(parseInvocation(['inspect', 'm.onnx', '--json']), { command: 'inspect', model: 'm.onnx', json: true });
    assert.deepEqual(parseInvocation(['bench', 'a.onnx', 'b.onnx', '--runs', '20', '--warmup=0', '--threads', '2', '--timeout', '1.5']), {
      command: 'bench', models: ['a.onnx', 'b.onnx'], json: false, timeoutMs: 1500,
      measure: { inputs: { shapes: undefined, values: undefined, folder: undefined, samples: undefined }, rounds: 20, warmupRuns: 0, threads: 2 },
    });
    const compare = parseInvocation(['compare', 'a.onnx', 'b.onnx', '--shape', 'input=1,512', '--shape=state=2,1,128', '--shape', 'scalar=',
      '--value', 'sr=16000', '--value', 'a=b=-0.5', '--inputs', 'real', '--samples', '5', '--runs', '0']);
    assert.deepEqual(compare, {
      command: 'compare', before: 'a.onnx', after: 'b.onnx', json: false, timeoutMs: undefined,
      measure: {
        inputs: { shapes: { input: [1, 512], state: [2, 1, 128], scalar: [] }, values: { sr: 16000, 'a=b': -0.5 }, folder: 'real', samples: 5 },
        rounds: 0, warmupRuns: undefined, threads: undefined,
      },
    });
  });

  it('parses quantize and prune, whose passes plug in behind them', () => {
    assert.deepEqual(parseInvocation(['quantize', 'm.onnx', '-o', 'q.onnx', '--mode', 'int4', '--layers', 'a,b', '--layers', 'c', '--per-tensor', '--external-data']),
      { command: 'quantize', model: 'm.onnx', output: 'q.onnx', mode: 'int4', layers: ['a', 'b', 'c'], perTensor: true, externalData: true, json: false });
    assert.deepEqual(parseInvocation(['quantize', 'm.onnx', '--output', 'q.onnx', '--mode', 'dynamic']),
      { command: 'quantize', model: 'm.onnx', output: 'q.onnx', mode: 'dynamic', layers: undefined, perTensor: false, externalData: false, json: false });
    for (const [flag, kind, value] of [['--threshold', 'threshold', 0.01], ['--sparsity', 'sparsity', 0.5], ['--global-sparsity', 'global-sparsity', 0.9], ['--channels', 'channels', 0.25]] as const) {
      assert.deepEqual(parseInvocation(['prune', 'm.onnx', '-o', 'p.onnx', flag, String(value)]),
        { command: 'prune', model: 'm.onnx', output: 'p.onnx', criterion: { kind, value }, layers: undefined, externalData: false, json: false });
    }
  });

  it('answers help', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['bench', '--help'], ['prune', '-h']]) assert.deepEqual(parseInvocation(argv), { command: 'help' });
  });

  it('refuses a missing or unknown command, unknown options and wrong model counts', () => {
    usageError([], /^Name a command\.$/);
    usageError(['optimise', 'm.onnx'], /^There is no command "optimise"\.$/);
    usageError(['inspect', 'm.onnx', '--runs', '3'], /^inspect: Unknown option '--runs'/);
    usageError(['bench', 'm.onnx', '--samples', '3'], /^bench: Unknown option '--samples'/);
    usageError(['bench'], /^bench takes 1 or 2 models, not 0\.$/);
    usageError(['bench', 'a', 'b', 'c'], /^bench takes 1 or 2 models, not 3\.$/);
    usageError(['compare', 'a'], /^compare takes 2 models, not 1\.$/);
    usageError(['inspect', 'a', 'b'], /^inspect takes 1 model, not 2\.$/);
    usageError(['bench', 'm.onnx', '--runs'], /^bench: Option '--runs <value>' argument missing$/);
  });

  it('refuses numbers, shapes and values that are not what the option takes', () => {
    usageError(['bench', 'm', '--runs', 'ten'], /^--runs must be a number, not "ten"\.$/);
    usageError(['bench', 'm', '--runs', '0'], /^--runs must be a whole number of at least 1, not 0\.$/);
    usageError(['compare', 'a', 'b', '--runs', '-1'], /^compare: Option '--runs' argument is ambiguous/);
    usageError(['compare', 'a', 'b', '--runs=-1'], /^--runs must be a whole number of at least 0, not -1\.$/);
    usageError(['bench', 'm', '--threads', '1.5'], /^--threads must be a whole number of at least 1, not 1\.5\.$/);
    usageError(['bench', 'm', '--timeout', '0'], /^--timeout must be a positive number of seconds, not 0\.$/);
    usageError(['bench', 'm', '--shape', 'input'], /^--shape wants NAME=D1,D2,\.\.\., not "input"\.$/);
    usageError(['bench', 'm', '--shape', 'input=1,x'], /^--shape dimensions must be whole numbers, not "1,x"\.$/);
    usageError(['bench', 'm', '--value', 'sr=fast'], /^--value must be a number, not "fast"\.$/);
  });

  it('refuses quantize and prune invocations that cannot be carried out', () => {
    usageError(['quantize', 'm.onnx', '--mode', 'int8'], /^Name the file to write with -o OUT\.$/);
    usageError(['quantize', 'm.onnx', '-o', 'q.onnx'], /^quantize needs --mode int8\|dynamic\|fp16\|int4\.$/);
    usageError(['quantize', 'm.onnx', '-o', 'q.onnx', '--mode', 'int2'], /^--mode must be one of int8, dynamic, fp16, int4, not "int2"\.$/);
    usageError(['quantize', 'm.onnx', '-o', './m.onnx', '--mode', 'int8'], /^-o "\.\/m\.onnx" is the model itself; write the result to another file\.$/);
    usageError(['quantize', 'm.onnx', '-o', 'q.onnx', '--mode', 'int8', '--layers', 'a,,b'], /^--layers needs comma-separated layer names, not "a,,b"\.$/);
    usageError(['quantize', 'm.onnx', '-o', 'q.onnx', '--mode', 'int8', '--sparsity', '0.5'], /^quantize: Unknown option '--sparsity'/);
    usageError(['prune', 'm.onnx', '-o', 'p.onnx'], /^prune needs exactly one of --threshold, --sparsity, --global-sparsity, --channels\.$/);
    usageError(['prune', 'm.onnx', '-o', 'p.onnx', '--threshold', '0.1', '--sparsity', '0.5'],
      /^prune needs exactly one of --threshold, --sparsity, --global-sparsity, --channels, not --threshold and --sparsity\.$/);
    usageError(['prune', 'm.onnx', '-o', 'p.onnx', '--sparsity', '1'], /^--sparsity must be a fraction from 0 up to \(not including\) 1, not 1\.$/);
    usageError(['prune', 'm.onnx', '-o', 'p.onnx', '--threshold=-0.1'], /^--threshold must not be negative, not -0\.1\.$/);
    usageError(['prune', 'm.onnx', '-o', 'p.onnx', '--channels', 'half'], /^--channels must be a number, not "half"\.$/);
    usageError(['prune', 'm.onnx', '-o', 'p.onnx', '--sparsity', '0.5', '--mode', 'int8'], /^prune: Unknown option '--mode'/);
  });
});
