/** Real inputs from a folder of .pb (serialized TensorProto) and .npy files. */
import { Dirent, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { OnnxLensError, quote } from '../errors';
import { onnx } from '../proto';
import { TensorView } from '../tensor/tensor-view';
import { parseNpy } from './npy';
import { ElementType, NamedTensor } from './protocol';
import type { InputSpec } from './inputs';
import { InputDataError } from './runtime-errors';

export interface FileInput {
  readonly tensor: NamedTensor;
  readonly file: string;
}

const INPUT_EXTENSIONS = new Set(['.pb', '.npy']);
/** The ONNX backend test suite's naming: input_<i> is the i-th fed input. */
const NUMBERED_INPUT = /^input_(\d+)$/;
/** The same suite keeps expected outputs next to the inputs. */
const NUMBERED_OUTPUT = /^output_\d+$/;

/**
 * One map from input name to tensor per input set: the folder's subfolders
 * (in natural order, like test_data_set_0, test_data_set_1...) when it has
 * any, else the folder itself.
 */
export async function readInputFolder(folder: string, specs: readonly InputSpec[]): Promise<Map<string, FileInput>[]> {
  const entries = await listFolder(folder);
  const subfolders = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort(naturalOrder);
  const setFolders = subfolders.length > 0 ? subfolders.map((name) => path.join(folder, name)) : [folder];
  return Promise.all(setFolders.map((setFolder) => readInputSet(setFolder, specs)));
}

async function readInputSet(folder: string, specs: readonly InputSpec[]): Promise<Map<string, FileInput>> {
  const files = (await listFolder(folder))
    .filter((entry) => entry.isFile() && INPUT_EXTENSIONS.has(path.extname(entry.name)) && !NUMBERED_OUTPUT.test(path.parse(entry.name).name))
    .map((entry) => path.join(folder, entry.name))
    .sort(naturalOrder);
  if (files.length === 0) throw new InputDataError(`${quote(folder)} holds no .pb or .npy input files.`, folder);
  const set = new Map<string, FileInput>();
  for (const file of files) {
    const read = await readInputFile(file);
    const spec = matchingInput(file, read.protoName, specs);
    const earlier = set.get(spec.name);
    if (earlier) throw new InputDataError(`${quote(earlier.file)} and ${quote(file)} are both for input ${quote(spec.name)}.`, file);
    if (read.type !== spec.type) {
      throw new InputDataError(`${quote(file)} holds ${read.type} values, but input ${quote(spec.name)} is ${spec.type}.`, file);
    }
    set.set(spec.name, { tensor: { name: spec.name, type: read.type, dims: read.dims, data: read.data }, file });
  }
  return set;
}

/** The input a file is for: by file name, by the name inside a .pb, or as input_<i>. */
function matchingInput(file: string, protoName: string | undefined, specs: readonly InputSpec[]): InputSpec {
  const base = path.parse(file).name;
  const numbered = NUMBERED_INPUT.exec(base);
  const spec = specs.find((candidate) => candidate.name === base)
    ?? specs.find((candidate) => protoName && candidate.name === protoName)
    ?? (numbered ? specs[Number(numbered[1])] : undefined);
  if (!spec) {
    throw new InputDataError(
      `${quote(file)} is for no input of the model: name it after one of ${specs.map((candidate) => quote(candidate.name)).join(', ')}, or input_<i>.`, file);
  }
  return spec;
}

async function readInputFile(file: string): Promise<{ type: ElementType; dims: number[]; data: NamedTensor['data']; protoName?: string }> {
  const bytes = await fs.readFile(file).catch((error: Error) => {
    throw new InputDataError(`Cannot read ${quote(file)}: ${error.message}.`, file);
  });
  if (path.extname(file) === '.npy') return parseNpy(bytes, file);
  return readTensorProto(bytes, file);
}

async function readTensorProto(bytes: Uint8Array, file: string) {
  let view: TensorView;
  try {
    view = new TensorView(onnx.TensorProto.decode(bytes));
  } catch (error) {
    const why = error instanceof OnnxLensError ? error.message : `it is not a serialized TensorProto (${(error as Error).message})`;
    throw new InputDataError(`${quote(file)} cannot be read as an input: ${why.replace(/\.$/, '')}.`, file);
  }
  const values = await view.values();
  const data = Array.isArray(values) ? values.map((value) => new TextDecoder().decode(value)) : values;
  return { type: view.dataType.name as ElementType, dims: [...view.dims], data, protoName: view.name || undefined };
}

async function listFolder(folder: string): Promise<Dirent[]> {
  return fs.readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'it does not exist' : error.code === 'ENOTDIR' ? 'it is not a folder' : error.message;
    throw new InputDataError(`Cannot read inputs from ${quote(folder)}: ${why}.`, folder);
  });
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
