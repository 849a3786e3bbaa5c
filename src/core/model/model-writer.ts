/**
 * Writes a model to disk with its weights inline, or in one external data file
 * beside it: always when asked, when the source kept weights outside the model,
 * and when the model would pass protobuf's 2 GB limit. Only the bytes the
 * output reads are written, each tensor copied from where it is (the file's
 * bytes, the source's data file, a pass's scratch space) without decoding it.
 * Both files are written to temporary files and renamed, the model last.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelFileError, quote } from '../errors';
import { writeFilesAtomic } from '../io/atomic-write';
import { writeFully } from '../io/positional-io';
import { encodeModel } from '../onnx/codec';
import { cloneStructure } from '../passes/clone';
import { encodedLength } from '../passes/encoded-length';
import { onnx } from '../proto';
import { ExternalDataReader, inlineTensor, isExternal, parseExternalLocation, pointAtExternal } from '../tensor/external-data';
import { alignUp } from '../tensor/scratch-data';
import { TensorView } from '../tensor/tensor-view';
import { forEachGraphScope } from './graph-walk';

const T = onnx.TensorProto.DataType;

export type ExternalDataPolicy = 'auto' | 'always' | 'never';

export interface WriteModelOptions {
  /** 'auto' (the default): external data when the source has some or the model would not fit protobuf's limit. */
  readonly externalData?: ExternalDataPolicy;
  /** The data file's name, relative to the model's folder; by default the model's file name plus ".data". */
  readonly dataLocation?: string;
  /**
   * External tensors whose location passes stay where they are, unread and
   * uncopied: a backup refers to the original's data instead of copying it.
   */
  readonly referenceInPlace?: (location: string) => boolean;
  /** The largest model written inline; tests lower it to reach the limit without 2 GB of data. */
  readonly inlineLimitBytes?: number;
  readonly signal?: AbortSignal;
}

export interface WrittenModel {
  readonly modelBytes: number;
  /** The external data file the model reads, when it has one. */
  readonly dataFile?: { readonly location: string; readonly bytes: number };
}

/** Protobuf refuses messages of 2 GiB and more. */
export const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;
/** Tensors smaller than this stay inline, as onnx's convert_model_to_external_data does. */
const EXTERNAL_THRESHOLD_BYTES = 1024;
/** Offsets in the data file, as onnx and ONNX Runtime GenAI align them (a page, so the file can be mapped). */
export const EXTERNAL_ALIGNMENT = 4096;

/** What writeModel needs of a model: its message and where its external tensors are read. */
export interface WritableModel {
  readonly proto: onnx.ModelProto;
  readonly externalData: ExternalDataReader | undefined;
}

export async function writeModel(model: WritableModel, target: string, options: WriteModelOptions = {}): Promise<WrittenModel> {
  const policy = options.externalData ?? 'auto';
  const hasExternal = anyTensor(model.proto, isExternal);
  const limit = options.inlineLimitBytes ?? PROTOBUF_LIMIT_BYTES;
  if (policy === 'never' || (policy === 'auto' && !hasExternal && encodedLength(model.proto) <= limit)) {
    return writeInline(model, target, limit, hasExternal, options.signal);
  }
  return writeWithExternalData(model, target, options.dataLocation ?? defaultDataLocation(target), options);
}

export function defaultDataLocation(target: string): string {
  return `${path.basename(target)}.data`;
}

/** Removes a model file written by writeModel and the data file named after it, if any. */
export async function removeWrittenModel(target: string): Promise<void> {
  await fs.rm(target, { force: true });
  await fs.rm(path.join(path.dirname(target), defaultDataLocation(target)), { force: true });
}

async function writeInline(model: WritableModel, target: string, limit: number, hasExternal: boolean, signal?: AbortSignal): Promise<WrittenModel> {
  let proto = model.proto;
  if (hasExternal) {
    proto = cloneStructure(model.proto);
    for (const { original, copy } of pairedTensors(model.proto, proto)) {
      signal?.throwIfAborted();
      if (isExternal(original)) inlineTensor(copy, await new TensorView(original, model.externalData).rawBytes());
    }
  }
  const length = encodedLength(proto);
  if (length > limit) {
    throw new ModelFileError(
      `Could not save ${quote(target)} inline: it would be ${length} bytes, past protobuf's limit of ${limit}. Save it with external data.`, target);
  }
  const bytes = encodeModel(proto);
  await writeFilesAtomic([{ target, write: (handle) => handle.writeFile(bytes) }]);
  return { modelBytes: bytes.byteLength };
}

/** One tensor of the output's data file: where its bytes come from and where they go. */
interface PlacedTensor {
  readonly source: TensorView;
  readonly offset: number;
}

async function writeWithExternalData(model: WritableModel, target: string, location: string, options: WriteModelOptions): Promise<WrittenModel> {
  const proto = cloneStructure(model.proto);
  const placed: PlacedTensor[] = [];
  let end = 0;
  for (const { original, copy } of pairedTensors(model.proto, proto)) {
    if (isExternal(original) && options.referenceInPlace?.(parseExternalLocation(original).location)) continue;
    const source = new TensorView(original, model.externalData);
    if (source.dataType.code === T.STRING || source.byteLength < EXTERNAL_THRESHOLD_BYTES) {
      if (isExternal(original)) inlineTensor(copy, await source.rawBytes());
      continue;
    }
    const offset = alignUp(end, EXTERNAL_ALIGNMENT);
    placed.push({ source, offset });
    end = offset + source.byteLength;
    pointAtExternal(copy, location, offset, source.byteLength);
  }
  const modelBytes = encodeModel(proto);
  const writeModelFile = { target, write: (handle: fs.FileHandle) => handle.writeFile(modelBytes) };
  if (placed.length === 0) {
    await writeFilesAtomic([writeModelFile]);
    return { modelBytes: modelBytes.byteLength };
  }
  const dataPath = path.join(path.dirname(target), location);
  await fs.mkdir(path.dirname(dataPath), { recursive: true });
  await writeFilesAtomic([{ target: dataPath, write: (handle) => copyTensors(placed, handle, options.signal) }, writeModelFile]);
  return { modelBytes: modelBytes.byteLength, dataFile: { location, bytes: end } };
}

/** Copies each tensor's bytes to its offset, reading the next while the current one is written. */
async function copyTensors(placed: readonly PlacedTensor[], handle: fs.FileHandle, signal?: AbortSignal): Promise<void> {
  const readAhead = (index: number) => {
    const bytes = placed[index]?.source.rawBytes();
    // Awaited in its turn; until then a failed read must not count as unhandled.
    bytes?.catch(() => undefined);
    return bytes;
  };
  let next = readAhead(0);
  for (let index = 0; index < placed.length; index++) {
    signal?.throwIfAborted();
    const bytes = await next!;
    next = readAhead(index + 1);
    await writeFully(handle.fd, bytes, placed[index].offset);
  }
}

function anyTensor(model: onnx.IModelProto, test: (tensor: onnx.ITensorProto) => boolean): boolean {
  for (const tensor of tensorsOf(model)) if (test(tensor)) return true;
  return false;
}

/** The tensors of a model and of its structural copy (cloneStructure), side by side: the copy is rewritten, the original read. */
function pairedTensors(original: onnx.IModelProto, copy: onnx.IModelProto): { original: onnx.ITensorProto; copy: onnx.ITensorProto }[] {
  const copies = tensorsOf(copy);
  return tensorsOf(original).map((tensor, index) => ({ original: tensor, copy: copies[index] }));
}

/** Every tensor a model holds: initializers, sparse initializers and tensor attributes, in every graph and function. */
export function tensorsOf(model: onnx.IModelProto): onnx.ITensorProto[] {
  const found: onnx.ITensorProto[] = [];
  const addSparse = (sparse: onnx.ISparseTensorProto | null | undefined) => {
    if (sparse?.values) found.push(sparse.values);
    if (sparse?.indices) found.push(sparse.indices);
  };
  forEachGraphScope(model, (scope) => {
    for (const tensor of scope.graph?.initializer ?? []) found.push(tensor);
    for (const sparse of scope.graph?.sparseInitializer ?? []) addSparse(sparse);
    for (const node of scope.nodes) {
      for (const attribute of node.attribute ?? []) {
        if (attribute.t) found.push(attribute.t);
        for (const tensor of attribute.tensors ?? []) found.push(tensor);
        addSparse(attribute.sparseTensor);
        for (const sparse of attribute.sparseTensors ?? []) addSparse(sparse);
      }
    }
  });
  return found;
}
