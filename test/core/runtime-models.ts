/**
 * Models for the runtime tests, among them models that make onnxruntime-node
 * 1.30 crash, hang or refuse (each found by trying it against ORT itself).
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEBIAN_PYTHON } from '../support/fixtures';
import { attr, DataType, encode, floatTensor, graph, model, node, rawTensor, valueInfo } from '../support/model-builder';

const INT32_MIN = -2147483648;

function int32Scalar(name: string, value: number) {
  return rawTensor(name, DataType.INT32, [], new Uint8Array(Int32Array.of(value).buffer));
}

/**
 * ORT's integer Div checks for division by zero but not for INT32_MIN / -1,
 * which the CPU traps (SIGFPE). The dividend comes from the fed input
 * (x·0 + INT32_MIN), so nothing is folded at load: the crash happens in a run.
 */
export function crashingModel(): Uint8Array {
  return encode(model(graph({
    nodes: [
      node('Mul', ['x', 'zero'], ['zeroed'], [], 'zeroed'),
      node('Add', ['zeroed', 'int32_min'], ['dividend'], [], 'dividend'),
      node('Div', ['dividend', 'minus_one'], ['y'], [], 'overflowing_divide'),
    ],
    initializers: [int32Scalar('zero', 0), int32Scalar('int32_min', INT32_MIN), int32Scalar('minus_one', -1)],
    inputs: [valueInfo('x', DataType.INT32, [1])],
    outputs: [valueInfo('y', DataType.INT32, [1])],
  })));
}

/** A Loop whose trip count is INT64_MAX and whose condition stays true: ORT runs it forever. */
export function hangingModel(): Uint8Array {
  const body = graph({
    name: 'forever_body',
    nodes: [node('Identity', ['cond_in'], ['cond_out']), node('Identity', ['v_in'], ['v_out'])],
    inputs: [valueInfo('i', DataType.INT64, []), valueInfo('cond_in', DataType.BOOL, []), valueInfo('v_in', DataType.FLOAT, [1])],
    outputs: [valueInfo('cond_out', DataType.BOOL, []), valueInfo('v_out', DataType.FLOAT, [1])],
  });
  return encode(model(graph({
    nodes: [node('Loop', ['trip_count', 'keep_going', 'x'], ['y'], [attr.graph('body', body)], 'forever')],
    initializers: [
      rawTensor('trip_count', DataType.INT64, [], new Uint8Array(BigInt64Array.of(2n ** 63n - 1n).buffer)),
      rawTensor('keep_going', DataType.BOOL, [], Uint8Array.of(1)),
    ],
    inputs: [valueInfo('x', DataType.FLOAT, [1])],
    outputs: [valueInfo('y', DataType.FLOAT, [1])],
  })));
}

/** Fills 2^40 floats (4 TiB): ORT's allocator refuses, and says which node asked. */
export function hugeAllocationModel(): Uint8Array {
  return encode(model(graph({
    nodes: [node('ConstantOfShape', ['shape'], ['filled'], [], 'huge_fill'), node('Add', ['filled', 'x'], ['y'], [], 'add')],
    initializers: [rawTensor('shape', DataType.INT64, [1], new Uint8Array(BigInt64Array.of(2n ** 40n).buffer))],
    inputs: [valueInfo('x', DataType.FLOAT, [1])],
    outputs: [valueInfo('y', DataType.FLOAT, ['n'])],
  })));
}

/** An op from a domain ORT does not know: refused at load, where ORT names only the op. */
export function unknownOpModel(): Uint8Array {
  return encode(model(graph({
    nodes: [node('Relu', ['x'], ['r'], [], 'relu'), node('Frobnicate', ['r'], ['y'], [], 'mystery', 'com.example.unknown')],
    inputs: [valueInfo('x', DataType.FLOAT, [2])],
    outputs: [valueInfo('y', DataType.FLOAT, [2])],
  }), { extraOpsets: [{ domain: 'com.example.unknown', version: 1 }] }));
}

/** y = x·W repeated `layers` times (W square), input "x" [rows, size], output "logits" [rows, size]. */
export function matMulModel(rows: number, size: number, weights: Float32Array, layers = 1): Uint8Array {
  const names = Array.from({ length: layers + 1 }, (_, index) => (index === 0 ? 'x' : index === layers ? 'logits' : `h${index}`));
  return encode(model(graph({
    nodes: names.slice(1).map((output, index) => node('MatMul', [names[index], 'w'], [output], [], `matmul_${index}`)),
    initializers: [floatTensor('w', [size, size], weights)],
    inputs: [valueInfo('x', DataType.FLOAT, [rows, size])],
    outputs: [valueInfo('logits', DataType.FLOAT, [rows, size])],
  })));
}

/** Writes files into a fresh temporary folder and returns their paths by name. */
export async function writeTemporary(files: Record<string, Uint8Array>): Promise<{ folder: string; paths: Record<string, string> }> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-lens-runtime-'));
  const paths: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(files)) {
    paths[name] = path.join(folder, name);
    await fs.writeFile(paths[name], bytes);
  }
  return { folder, paths };
}

/**
 * Runs a Python script with Debian's python3 and numpy: `input` arrives as
 * JSON in the variable `data`, and the script sets `result`, returned as JSON.
 * The tests' independent reference computations.
 */
export function numpy(script: string, input: unknown = null): any {
  const program = `import json, sys\nimport numpy as np\ndata = json.load(sys.stdin)\n${script}\nprint(json.dumps(result))\n`;
  const python = spawnSync(DEBIAN_PYTHON, ['-c', program], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (python.status !== 0) throw new Error(`python3 failed: ${python.stderr}`);
  return JSON.parse(python.stdout);
}
