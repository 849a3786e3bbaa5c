import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ExternalDataError, TensorDataError, quote } from '../errors';
import { onnx } from '../proto';
import { closeDescriptor, closeWhenUnreachable, openDescriptor, readFully } from '../io/positional-io';

/** Where a tensor's bytes live when data_location is EXTERNAL. */
export interface ExternalLocation {
  /** Path relative to the model's folder, as written in the model. */
  readonly location: string;
  readonly offset: number;
  /** Declared length in bytes, when the model states one. */
  readonly length?: number;
}

export interface ExternalReadRequest extends ExternalLocation {
  readonly tensorName: string;
  /** Bytes to read, already checked against the tensor's shape and type. */
  readonly byteLength: number;
}

/** Reads external tensor data; lets the core stay independent of where files come from. */
export interface ExternalDataReader {
  read(request: ExternalReadRequest): Promise<Uint8Array>;
  /** Lets go of the files it holds open, if any. */
  close?(): Promise<void>;
}

export function isExternal(tensor: onnx.ITensorProto): boolean {
  return tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
}

/** Makes a tensor read its values from `location` (the tensor must be the writer's own copy: its values are dropped). */
export function pointAtExternal(tensor: onnx.ITensorProto, location: string, offset: number, length: number): void {
  clearValues(tensor);
  tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  tensor.externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(length) },
  ].map((entry) => onnx.StringStringEntryProto.create(entry));
}

/** Makes a tensor hold `bytes` as raw_data (the tensor must be the writer's own copy). */
export function inlineTensor(tensor: onnx.ITensorProto, bytes: Uint8Array): void {
  clearValues(tensor);
  tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  tensor.externalData = [];
  tensor.rawData = bytes;
}

const VALUE_FIELDS = ['rawData', 'floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data'] as const;

function clearValues(tensor: onnx.ITensorProto): void {
  // Deleting the own property leaves protobufjs's default, which it does not encode.
  for (const field of VALUE_FIELDS) delete tensor[field];
}

/** Bytes a tensor's values occupy where they are stored: raw_data, or its external data range. */
export function storedValueBytes(tensor: onnx.ITensorProto): number {
  return isExternal(tensor) ? parseExternalLocation(tensor).length ?? 0 : tensor.rawData?.byteLength ?? 0;
}

export function parseExternalLocation(tensor: onnx.ITensorProto): ExternalLocation {
  const tensorName = tensor.name ?? '';
  const entries = new Map((tensor.externalData ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
  const location = entries.get('location');
  if (!location) {
    throw new ExternalDataError(`Tensor ${quote(tensorName)} is stored externally but names no location.`, tensorName);
  }
  checkRelativeLocation(location, tensorName);
  return {
    location,
    offset: parseByteCount(entries.get('offset') ?? '0', 'offset', tensorName),
    length: entries.has('length') ? parseByteCount(entries.get('length')!, 'length', tensorName) : undefined,
  };
}

function parseByteCount(text: string, key: string, tensorName: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new TensorDataError(`Tensor ${quote(tensorName)} has external data ${key} ${quote(text)}, which is not a byte count.`, tensorName);
  }
  return value;
}

/** Refuses, as onnx and ONNX Runtime do, locations that could point outside the model's folder. */
export function checkRelativeLocation(location: string, tensorName: string): void {
  const refuse = (why: string) => {
    throw new ExternalDataError(`Tensor ${quote(tensorName)} has external data location ${quote(location)}, which is refused: ${why}.`, tensorName, location);
  };
  if (location.includes('\0')) refuse('it contains a NUL character');
  if (path.posix.isAbsolute(location) || path.win32.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) refuse('it is an absolute path');
  if (location.split(/[\\/]/).includes('..')) refuse('it contains ".."');
}

/**
 * Reads external data from files inside one folder, refusing anything that
 * resolves outside it. Each file is opened once and kept open until close():
 * a save that replaces a data file (renaming a new one over it) leaves the
 * models read from the old one reading what they were opened with.
 */
export class FolderExternalDataReader implements ExternalDataReader {
  private realFolder: Promise<string> | undefined;
  private readonly handles = new Map<string, Promise<DataFile>>();

  constructor(readonly folder: string) {}

  async read(request: ExternalReadRequest): Promise<Uint8Array> {
    const { fd, size } = await this.dataFile(request);
    if (request.offset + request.byteLength > size) {
      throw new ExternalDataError(
        `Tensor ${quote(request.tensorName)} needs ${request.byteLength} bytes at offset ${request.offset} of ${quote(request.location)}, but that file has only ${size} bytes.`,
        request.tensorName, request.location);
    }
    const bytes = new Uint8Array(request.byteLength);
    await readFully(fd, bytes, request.offset);
    return bytes;
  }

  /** The open file behind a location (opened on first use), for readers that read it themselves (worker threads share its descriptor). */
  async dataFile(request: { tensorName: string; location: string }): Promise<DataFile> {
    let file = this.handles.get(request.location);
    if (!file) {
      file = this.openDataFile(request);
      this.handles.set(request.location, file);
      file.catch(() => this.handles.delete(request.location));
    }
    return file;
  }

  /** Closes the files it opened; a later read opens them again. */
  async close(): Promise<void> {
    const files = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(files.map((file) => file.then((opened) => {
      closeWhenUnreachable.unregister(opened);
      return closeDescriptor(opened.fd);
    }, () => undefined)));
  }

  private async openDataFile(request: { tensorName: string; location: string }): Promise<DataFile> {
    const filePath = await this.resolveInside(request);
    const fd = await openForRead(filePath, request);
    const { size } = await fs.stat(filePath);
    const opened = { fd, size, path: filePath };
    closeWhenUnreachable.register(this, fd, opened);
    return opened;
  }

  /** The absolute path of a location after checking that it, symlinks resolved, stays in the folder. */
  async resolveInside(request: { tensorName: string; location: string }): Promise<string> {
    checkRelativeLocation(request.location, request.tensorName);
    this.realFolder ??= fs.realpath(this.folder);
    const folder = await this.realFolder;
    const candidate = path.resolve(folder, request.location);
    const real = await fs.realpath(candidate).catch(() => candidate);
    const relative = path.relative(folder, real);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new ExternalDataError(
        `Tensor ${quote(request.tensorName)} has external data location ${quote(request.location)}, which is refused: it resolves outside the model's folder.`,
        request.tensorName, request.location);
    }
    return real;
  }
}

/** An open external data file, its size when opened and its resolved path. */
export interface DataFile {
  /** A descriptor number: worker threads can read it too. */
  readonly fd: number;
  readonly size: number;
  readonly path: string;
}

async function openForRead(filePath: string, request: { tensorName: string; location: string }): Promise<number> {
  try {
    return await openDescriptor(filePath, 'r');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'that file does not exist' : `it cannot be opened (${(error as Error).message})`;
    throw new ExternalDataError(
      `Tensor ${quote(request.tensorName)} has its data in ${quote(request.location)}, but ${reason}.`,
      request.tensorName, request.location);
  }
}
