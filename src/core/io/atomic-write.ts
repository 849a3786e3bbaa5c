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
  await writeFilesAtomic([{ target, write }]);
}

export interface AtomicFile {
  readonly target: string;
  readonly write: (handle: fs.FileHandle) => Promise<void>;
}

/**
 * Writes several files as writeFileAtomic does: every file goes to its own
 * temporary file first, and only when all are written and flushed are they
 * renamed over their targets, in the order given (a model's data file before
 * the model, so that no reader finds a model whose data is missing). A failure
 * while writing leaves every target as it was.
 */
export async function writeFilesAtomic(files: readonly AtomicFile[]): Promise<void> {
  const prepared: PreparedFile[] = [];
  try {
    for (const file of files) prepared.push(await prepareFile(file));
  } catch (error) {
    await Promise.all(prepared.map(discard));
    throw error;
  }
  for (const [index, file] of prepared.entries()) {
    try {
      await fs.rename(file.temporary, file.destination);
    } catch (error) {
      await Promise.all(prepared.slice(index).map(discard));
      throw saveError(file.target, error);
    }
  }
  for (const folder of new Set(prepared.map((file) => file.folder))) await syncFolder(folder);
}

interface PreparedFile {
  readonly target: string;
  readonly destination: string;
  readonly folder: string;
  readonly temporary: string;
}

/** Writes and flushes the temporary file of one target. */
async function prepareFile({ target, write }: AtomicFile): Promise<PreparedFile> {
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
    return { target, destination, folder, temporary };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw saveError(target, error);
  }
}

function discard(file: PreparedFile): Promise<void> {
  return fs.rm(file.temporary, { force: true }).catch(() => undefined);
}

function saveError(target: string, error: unknown): Error {
  // A cancelled save is not a failed one; a refusal already says what it refused.
  if (error instanceof ModelFileError || (error as Error).name === 'AbortError') return error as Error;
  return new ModelFileError(`Could not save ${quote(target)}: ${describeWriteError(error)}. The existing file, if any, was left as it was.`, target);
}

export function writeBytesAtomic(target: string, bytes: Uint8Array): Promise<void> {
  return writeFileAtomic(target, async (handle) => {
    await handle.writeFile(bytes);
  });
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
