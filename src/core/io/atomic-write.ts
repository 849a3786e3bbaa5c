import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelFileError, quote } from '../errors';

/**
 * Writes a file so that readers see either the old content or the new, never
 * a mix: the bytes go to a temporary file in the same folder, are flushed to
 * disk, and the temporary file is renamed over the target.
 */
export async function writeFileAtomic(target: string, write: (handle: fs.FileHandle) => Promise<void>): Promise<void> {
  const folder = path.dirname(target);
  const temporary = path.join(folder, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temporary, 'wx');
    await write(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temporary, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw new ModelFileError(`Could not save ${quote(target)}: ${(error as Error).message}. The existing file was left as it was.`, target);
  }
  await syncFolder(folder);
}

export function writeBytesAtomic(target: string, bytes: Uint8Array): Promise<void> {
  return writeFileAtomic(target, async (handle) => {
    await handle.writeFile(bytes);
  });
}

const COPY_CHUNK_BYTES = 4 << 20;

/** Appends the whole of `source` to an open file, a chunk at a time. */
export async function copyFileInto(source: string, target: fs.FileHandle): Promise<void> {
  const input = await fs.open(source, 'r');
  try {
    const chunk = new Uint8Array(COPY_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await input.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return;
      await target.write(chunk, 0, bytesRead);
    }
  } finally {
    await input.close();
  }
}

/** Makes the rename itself durable; not every platform can open a folder, which is fine. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await fs.open(folder, 'r').catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close().catch(() => undefined);
}
