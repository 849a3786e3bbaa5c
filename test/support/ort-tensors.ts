/**
 * Feeds for ONNX Runtime from the backend test suite's input_<i>.pb files,
 * and the comparison of two runs' outputs.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { onnx, TensorView } from '../../src/core';
import { PlainTensor } from './ort-protocol';

/** Element types onnxruntime-node accepts as feeds, by TensorView's type names. */
const FEEDABLE_TYPES: ReadonlySet<string> = new Set<Tensor.Type>([
  'float32', 'float64', 'float16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'string',
]);
const DATA_SET_DIR = /^test_data_set_(\d+)$/;
const INPUT_FILE = /^input_(\d+)\.pb$/;
const UTF8 = new TextDecoder();
const FLOAT16_EXPONENT_BITS = 0x7c00;
const FLOAT16_MANTISSA_BITS = 0x03ff;

/** A test input that cannot become an ORT feed: a sequence or map, a type onnxruntime-node lacks... */
export class FeedConversionError extends Error {}

/** One feed set per test_data_set_<n> folder of a suite model, in folder order. */
export async function readFeedSets(modelDir: string, model: onnx.IModelProto): Promise<PlainTensor[][]> {
  const inputs = fedInputs(model);
  const dataSets = numberedEntries(await fs.readdir(modelDir), DATA_SET_DIR);
  return Promise.all(dataSets.map((dir) => readFeedSet(path.join(modelDir, dir), inputs)));
}

/** The graph inputs that input_<i>.pb feed: those that are not initializers, in order. */
function fedInputs(model: onnx.IModelProto): onnx.IValueInfoProto[] {
  const initializers = new Set((model.graph?.initializer ?? []).map((tensor) => tensor.name));
  return (model.graph?.input ?? []).filter((input) => !initializers.has(input.name));
}

async function readFeedSet(dataSetDir: string, inputs: onnx.IValueInfoProto[]): Promise<PlainTensor[]> {
  const files = numberedEntries(await fs.readdir(dataSetDir), INPUT_FILE);
  return Promise.all(files.map(async (file, index) => {
    const input = inputs[index];
    if (!input?.name) throw new FeedConversionError(`${file} has no named graph input to feed`);
    const kind = input.type?.value;
    if (kind !== 'tensorType') throw new FeedConversionError(`input '${input.name}' is a ${kind ?? 'value of no type'}, not a tensor`);
    return toFeed(input.name, await fs.readFile(path.join(dataSetDir, file)));
  }));
}

async function toFeed(name: string, bytes: Uint8Array): Promise<PlainTensor> {
  const view = new TensorView(onnx.TensorProto.decode(bytes));
  const type = view.dataType.name;
  if (!FEEDABLE_TYPES.has(type)) throw new FeedConversionError(`input '${name}' has type ${type}, which onnxruntime-node cannot feed`);
  const values = await view.values();
  const data = Array.isArray(values) ? values.map((value) => UTF8.decode(value)) : values;
  return { name, type: type as Tensor.Type, dims: [...view.dims], data };
}

/** The entries named like `pattern` (whose first group is a number), sorted by that number. */
function numberedEntries(names: string[], pattern: RegExp): string[] {
  return names
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((entry) => entry.match !== null)
    .sort((a, b) => Number(a.match![1]) - Number(b.match![1]))
    .map((entry) => entry.name);
}

/**
 * Where two runs' outputs differ, or undefined when they are the same: same
 * names, types and shapes, and bitwise equal values except that any NaN equals any NaN.
 */
export function outputDifference(first: PlainTensor[][], second: PlainTensor[][]): string | undefined {
  if (first.length !== second.length) return `${first.length} vs ${second.length} data sets`;
  for (const [set, outputs] of first.entries()) {
    const names = (tensors: PlainTensor[]): string => tensors.map((tensor) => tensor.name).join(', ');
    if (names(outputs) !== names(second[set])) return `data set ${set}: outputs [${names(outputs)}] vs [${names(second[set])}]`;
    for (const [index, output] of outputs.entries()) {
      const difference = tensorDifference(output, second[set][index]);
      if (difference) return `data set ${set}, output '${output.name}': ${difference}`;
    }
  }
  return undefined;
}

function tensorDifference(a: PlainTensor, b: PlainTensor): string | undefined {
  if (a.type !== b.type) return `type ${a.type} vs ${b.type}`;
  if (a.dims.join(',') !== b.dims.join(',')) return `shape [${a.dims}] vs [${b.dims}]`;
  const same = a.type === 'float16' ? sameFloat16 : Object.is;
  const x = a.data as ArrayLike<unknown>;
  const y = b.data as ArrayLike<unknown>;
  if (x.length !== y.length) return `${x.length} vs ${y.length} values`;
  for (let i = 0; i < x.length; i++) {
    if (!same(x[i], y[i])) return `value ${i}: ${String(x[i])} vs ${String(y[i])}`;
  }
  return undefined;
}

/** Float16 values arrive as bit patterns. */
function sameFloat16(a: unknown, b: unknown): boolean {
  return a === b || (isFloat16NaN(a as number) && isFloat16NaN(b as number));
}

function isFloat16NaN(bits: number): boolean {
  return (bits & FLOAT16_EXPONENT_BITS) === FLOAT16_EXPONENT_BITS && (bits & FLOAT16_MANTISSA_BITS) !== 0;
}
