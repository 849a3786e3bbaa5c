/**
 * Reads and writes at positions of files held open by descriptor number.
 * Numbers, not FileHandles: worker threads share them, and a descriptor kept
 * for the life of a model is closed by a FinalizationRegistry without the
 * warning Node prints for FileHandles it has to close itself.
 */
import { close, closeSync, open, read, write } from 'node:fs';
import { promisify } from 'node:util';

const readAt = promisify(read);
const writeAt = promisify(write);
export const openDescriptor = promisify(open);
export const closeDescriptor = promisify(close);

/** Fills `bytes` from `position`; returns how many bytes the file had there (fewer at its end). */
export async function readFully(fd: number, bytes: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < bytes.byteLength) {
    const { bytesRead } = await readAt(fd, bytes, filled, bytes.byteLength - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

export async function writeFully(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await writeAt(fd, bytes, written, bytes.byteLength - written, position + written);
    written += bytesWritten;
  }
}

/** Closes descriptors whose owner (a reader, a scratch file) is no longer reachable. */
export const closeWhenUnreachable = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to free.
  }
});
