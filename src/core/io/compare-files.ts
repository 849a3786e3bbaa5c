import { promises as fs } from 'node:fs';

/** Whether anything is at the path, a dangling symlink included. */
export async function pathExists(filePath: string): Promise<boolean> {
  return fs.lstat(filePath).then(() => true, () => false);
}

const COMPARE_CHUNK_BYTES = 4 << 20;

/** Whether two files hold the same bytes, read a chunk at a time; a file that cannot be read differs. */
export async function sameFileContent(first: string, second: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.open(first, 'r').catch(() => undefined), fs.open(second, 'r').catch(() => undefined)]);
  try {
    if (!a || !b || (await a.stat()).size !== (await b.stat()).size) return false;
    const chunkA = new Uint8Array(COMPARE_CHUNK_BYTES);
    const chunkB = new Uint8Array(COMPARE_CHUNK_BYTES);
    for (let position = 0; ;) {
      const [readA, readB] = await Promise.all([a.read(chunkA, 0, chunkA.length, position), b.read(chunkB, 0, chunkB.length, position)]);
      if (readA.bytesRead !== readB.bytesRead) return false;
      if (readA.bytesRead === 0) return true;
      if (Buffer.compare(chunkA.subarray(0, readA.bytesRead), chunkB.subarray(0, readB.bytesRead)) !== 0) return false;
      position += readA.bytesRead;
    }
  } finally {
    await a?.close();
    await b?.close();
  }
}
