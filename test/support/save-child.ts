/**
 * Saves a model in a process of its own, for tests that need the save to run
 * as another user or to be killed halfway: `node save-child.js <source> <target>`
 * opens <source> and saves it to <target>, then reports to its parent.
 */
import { OnnxModel } from '../../src/core';

export type SaveChildReply = { ok: true } | { ok: false; name: string; message: string; path?: string };

async function main(source: string, target: string): Promise<SaveChildReply> {
  try {
    await (await OnnxModel.open(source)).save(target);
    return { ok: true };
  } catch (error) {
    const { name, message, path } = error as Error & { path?: string };
    return { ok: false, name, message, path };
  }
}

void main(process.argv[2], process.argv[3]).then((reply) => process.send!(reply, () => process.disconnect()));
