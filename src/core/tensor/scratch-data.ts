import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ExternalDataError, quote } from '../errors';
import { closeWhenUnreachable, openDescriptor, readFully, writeFully } from '../io/positional-io';
import { ExternalDataReader, ExternalReadRequest, FolderExternalDataReader } from './external-data';

/**
 * Room on disk for the tensors a pass computes on a model too large to keep in
 * memory. The values go to a temporary file that is deleted as soon as it is
 * opened: the system frees its space when the descriptor closes (when no model
 * reads it any more, or when the process ends, however it ends), so nothing is
 * ever left behind. Tensors stored here name `location` as their external data
 * location; only a reader routed to this store (see routeExternalData) finds them.
 */
export class ScratchData implements ExternalDataReader {
  readonly location = `${SCRATCH_PREFIX}${randomBytes(6).toString('hex')}.bin`;
  private file?: Promise<number>;
  private end = 0;

  /** Appends bytes (aligned as external data is) and says where they went. */
  async append(bytes: Uint8Array): Promise<{ offset: number; length: number }> {
    const fd = await this.open();
    const offset = this.end;
    this.end = alignUp(offset + bytes.byteLength, SCRATCH_ALIGNMENT);
    await writeFully(fd, bytes, offset);
    return { offset, length: bytes.byteLength };
  }

  async read(request: ExternalReadRequest): Promise<Uint8Array> {
    if (!this.file || request.offset + request.byteLength > this.end) {
      throw new ExternalDataError(`Tensor ${quote(request.tensorName)} points past the computed values held on disk.`, request.tensorName, request.location);
    }
    const bytes = new Uint8Array(request.byteLength);
    await readFully(await this.file, bytes, request.offset);
    return bytes;
  }

  private open(): Promise<number> {
    this.file ??= openUnlinked().then((fd) => {
      closeWhenUnreachable.register(this, fd);
      return fd;
    });
    return this.file;
  }
}

const SCRATCH_ALIGNMENT = 64;
const SCRATCH_PREFIX = 'onnx-lens-scratch-';

/** Is this the location of tensors a pass keeps in scratch space (which no file on disk holds)? */
export function isScratchLocation(location: string): boolean {
  return location.startsWith(SCRATCH_PREFIX);
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

async function openUnlinked(): Promise<number> {
  const filePath = path.join(tmpdir(), `.onnx-lens-${process.pid}-${randomBytes(6).toString('hex')}.scratch`);
  const fd = await openDescriptor(filePath, 'wx+', 0o600);
  await fs.unlink(filePath);
  return fd;
}

/**
 * A reader that sends the locations named in `routes` to their own reader
 * (scratch space, a backup's data file) and every other location to `fallback`.
 */
export function routeExternalData(fallback: ExternalDataReader | undefined, routes: ReadonlyMap<string, ExternalDataReader>): ExternalDataReader {
  return new RoutedExternalDataReader(fallback, routes);
}

export class RoutedExternalDataReader implements ExternalDataReader {
  constructor(readonly fallback: ExternalDataReader | undefined, readonly routes: ReadonlyMap<string, ExternalDataReader>) {}

  read(request: ExternalReadRequest): Promise<Uint8Array> {
    const reader = this.routes.get(request.location) ?? this.fallback;
    if (!reader) {
      return Promise.reject(new ExternalDataError(
        `Tensor ${quote(request.tensorName)} is stored in ${quote(request.location)}, but the model was opened without its folder.`, request.tensorName, request.location));
    }
    return reader.read(request);
  }

  async close(): Promise<void> {
    await Promise.all([this.fallback, ...this.routes.values()].map((reader) => reader?.close?.()));
  }
}

/** The folder a reader resolves data files in (through routes, the fallback's), if it reads from a folder. */
export function dataFolderOf(reader: ExternalDataReader | undefined): string | undefined {
  if (reader instanceof RoutedExternalDataReader) return dataFolderOf(reader.fallback);
  return reader instanceof FolderExternalDataReader ? reader.folder : undefined;
}
