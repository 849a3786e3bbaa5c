import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ExternalDataError, TensorDataError, quote } from '../errors';
import { onnx } from '../proto';

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
}

export function isExternal(tensor: onnx.ITensorProto): boolean {
  return tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
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

/** Reads external data from files inside one folder, refusing anything that resolves outside it. */
export class FolderExternalDataReader implements ExternalDataReader {
  private realFolder: Promise<string> | undefined;

  constructor(readonly folder: string) {}

  async read(request: ExternalReadRequest): Promise<Uint8Array> {
    const filePath = await this.resolveInside(request);
    const handle = await openForRead(filePath, request);
    try {
      const { size } = await handle.stat();
      if (request.offset + request.byteLength > size) {
        throw new ExternalDataError(
          `Tensor ${quote(request.tensorName)} needs ${request.byteLength} bytes at offset ${request.offset} of ${quote(request.location)}, but that file has only ${size} bytes.`,
          request.tensorName, request.location);
      }
      const bytes = new Uint8Array(request.byteLength);
      let filled = 0;
      while (filled < bytes.length) {
        const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, request.offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return bytes;
    } finally {
      await handle.close();
    }
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

async function openForRead(filePath: string, request: ExternalReadRequest): Promise<fs.FileHandle> {
  try {
    return await fs.open(filePath, 'r');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'that file does not exist' : `it cannot be opened (${(error as Error).message})`;
    throw new ExternalDataError(
      `Tensor ${quote(request.tensorName)} has its data in ${quote(request.location)}, but ${reason}.`,
      request.tensorName, request.location);
  }
}
