import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelFileError, quote } from '../errors';

/**
 * Writes a file so that readers see either the old content or the new, never
 * a mix: the bytes go to a temporary file in the same folder, are flushed to
 * disk, and the temporary file is renamed over the target. Temporary files
 * left by processes that died mid-save are removed first.
 */
export async function writeFileAtomic(target: string, write: (handle: fs.FileHandle) => Promise<void>): Promise<void> {
  // Through a symlink, the file it points to is replaced and the link kept.
  const destination = await fs.realpath(target).catch(() => target);
  const folder = path.dirname(destination);
  await removeStaleTemporaries(folder, path.basename(destination));
  const temporary = path.join(folder, temporaryName(path.basename(destination), process.pid));
  const existingMode = await fs.stat(destination).then((stats) => stats.mode & 0o7777, () => undefined);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temporary, 'wx');
    // The replacement keeps the replaced file's permissions: a private model stays private.
    if (existingMode !== undefined) await handle.chmod(existingMode);
    await write(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temporary, destination);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw new ModelFileError(`Could not save ${quote(target)}: ${describeWriteError(error)}. The existing file, if any, was left as it was.`, target);
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

/** The writer's process id is part of the name, so that a later save can tell an orphan from a save in progress. */
function temporaryName(targetName: string, pid: number): string {
  return `.${targetName}.${pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** What follows `.${targetName}.` in a temporary file's name. */
const TEMPORARY_TAIL = /^(\d{1,10})\.[0-9a-f]{8}\.tmp$/;

/** Removes the temporary files of this target whose writer is no longer running: a killed process cannot clean up. */
async function removeStaleTemporaries(folder: string, targetName: string): Promise<void> {
  const prefix = `.${targetName}.`;
  const names = await fs.readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    const writer = name.startsWith(prefix) ? TEMPORARY_TAIL.exec(name.slice(prefix.length)) : null;
    if (writer && !isRunning(Number(writer[1]))) await fs.rm(path.join(folder, name), { force: true }).catch(() => undefined);
  }
}

/** Signal 0 only checks that the process exists; EPERM means it exists but belongs to someone else. */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const WRITE_ERROR_REASONS = new Map([
  ['ENOSPC', 'the disk is full'],
  ['EDQUOT', 'the disk quota is used up'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'permission denied'],
  ['EROFS', 'the file system is read-only'],
  ['ENOENT', 'its folder does not exist'],
]);

function describeWriteError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === undefined ? undefined : WRITE_ERROR_REASONS.get(code);
  return reason ? `${reason} (${code})` : (error as Error).message.replace(/\.$/, '');
}

/** Makes the rename itself durable; not every platform can open a folder, which is fine. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await fs.open(folder, 'r').catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close().catch(() => undefined);
}
