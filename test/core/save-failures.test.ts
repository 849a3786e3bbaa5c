/**
 * Saves that fail for real (a full disk, a folder the user cannot write, a
 * process killed halfway, a rename refused) must leave the existing file
 * byte for byte as it was, and no temporary file behind. A save that
 * succeeds keeps the file's permissions and any symlink to it.
 */
import { strict as assert } from 'node:assert';
import { ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ModelFileError, OnnxModel } from '../../src/core';
import { writeBytesAtomic } from '../../src/core/io/atomic-write';
import { DataType, encode, floatTensor, graph, model, node, randomFloats, valueInfo } from '../support/model-builder';
import type { SaveChildReply } from '../support/save-child';

const SAVE_CHILD = path.join(__dirname, '../support/save-child.js');
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** y = Identity(W): a model whose size is set by its one weight. */
function modelBytes(weightCount: number, seed: number): Uint8Array {
  return encode(model(graph({
    nodes: [node('Identity', ['W'], ['y'], [], 'copy')],
    outputs: [valueInfo('y', DataType.FLOAT, [weightCount])],
    initializers: [floatTensor('W', [weightCount], randomFloats(weightCount, seed))],
  })));
}

function temporariesOf(folder: string, fileName: string): string[] {
  return readdirSync(folder).filter((name) => name.startsWith(`.${fileName}.`) && name.endsWith('.tmp'));
}

/** The file is exactly `original` and still opens as a model with its weight. */
async function assertIntact(filePath: string, original: Uint8Array): Promise<void> {
  assert.ok(readFileSync(filePath).equals(original), `${filePath} changed`);
  assert.equal((await OnnxModel.open(filePath)).weights()[0].name, 'W');
}

/** The save failed with a ModelFileError that names the target and says why. */
function assertSaveRefused(error: { name: string; message: string; path?: string }, target: string, reason: RegExp): true {
  assert.equal(error.name, 'ModelFileError');
  assert.equal(error.path, target);
  assert.ok(error.message.startsWith(`Could not save ${JSON.stringify(target)}: `), error.message);
  assert.match(error.message, reason);
  assert.ok(error.message.endsWith('. The existing file, if any, was left as it was.'), error.message);
  return true;
}

const refusedWith = (target: string, reason: RegExp) => (error: unknown) => error instanceof ModelFileError && assertSaveRefused(error, target, reason);

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

function runSaveChild(source: string, target: string, user?: { uid: number; gid: number }): Promise<SaveChildReply> {
  const child = fork(SAVE_CHILD, [source, target], { ...user, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (reply) => resolve(reply as SaveChildReply));
    child.once('exit', (code, signal) => reject(new Error(`the save child exited (${code ?? signal}) without replying`)));
  });
}

/** Marks a test pending with the reason in its title: mocha's skip takes none. */
function pendingBecause(context: Mocha.Context, reason: string): never {
  context.test!.title += ` (pending: ${reason})`;
  context.skip();
}

describe('saving a model atomically', () => {
  let work: string;
  beforeEach(() => { work = mkdtempSync(path.join(tmpdir(), 'onnx-lens-save-')); });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  describe('on a full disk', () => {
    const MOUNT_SIZE = '1m';
    let mountPoint: string | undefined;
    let whyNotMounted = 'mounting a tmpfs needs root';

    before(() => {
      if (!isRoot) return;
      const folder = mkdtempSync(path.join(tmpdir(), 'onnx-lens-full-'));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_SIZE}`, 'tmpfs', folder], { stdio: 'pipe' });
        mountPoint = folder;
      } catch (error) {
        whyNotMounted = `mount -t tmpfs was refused: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
        rmdirSync(folder);
      }
    });

    after(() => {
      if (!mountPoint) return;
      execFileSync('umount', [mountPoint]);
      rmdirSync(mountPoint);
    });

    it('a save larger than the free space fails with ENOSPC, leaving the original and no temporary file', async function () {
      if (!mountPoint) pendingBecause(this, whyNotMounted);
      const target = path.join(mountPoint, 'model.onnx');
      const original = modelBytes(75_000, 1);
      writeFileSync(target, original);
      const edited = await OnnxModel.open(target);
      edited.proto.docString = 'an edit that makes the model larger than the space left. '.repeat(14_000);

      await assert.rejects(edited.save(target), refusedWith(target, /: the disk is full \(ENOSPC\)\./));

      await assertIntact(target, original);
      assert.deepEqual(readdirSync(mountPoint), ['model.onnx']);
      edited.proto.docString = 'a small edit, which fits once the failed temporary file is gone';
      await edited.save(target);
      assert.equal((await OnnxModel.open(target)).proto.docString, edited.proto.docString);
    });
  });

  it('a save into a folder the user cannot write fails with EACCES naming the file, leaving the original', async () => {
    const folder = path.join(work, 'read-only');
    const target = path.join(folder, 'model.onnx');
    const source = path.join(work, 'edited.onnx');
    const original = modelBytes(1000, 2);
    mkdirSync(folder);
    writeFileSync(target, original, { mode: 0o644 });
    writeFileSync(source, modelBytes(2000, 3), { mode: 0o644 });
    chmodSync(folder, 0o555);
    // Root ignores permissions, so as root the save runs as nobody; the folders above must let nobody in.
    chmodSync(work, 0o755);
    let reply: SaveChildReply;
    try {
      reply = await runSaveChild(source, target, isRoot ? { uid: NOBODY, gid: NOBODY } : undefined);
    } finally {
      chmodSync(folder, 0o755);
    }

    assert.ok(!reply.ok, 'the save should have been refused');
    assertSaveRefused(reply, target, /: permission denied \(EACCES\)\./);
    await assertIntact(target, original);
    assert.deepEqual(readdirSync(folder), ['model.onnx']);
  });

  it('a rename refused (the target is a folder) removes the fully written temporary file', async () => {
    const target = path.join(work, 'model.onnx');
    mkdirSync(target);
    writeFileSync(path.join(target, 'inside.txt'), 'kept');

    await assert.rejects(writeBytesAtomic(target, modelBytes(1000, 4)), refusedWith(target, /: EISDIR: illegal operation on a directory, rename /));

    assert.equal(readFileSync(path.join(target, 'inside.txt'), 'utf8'), 'kept');
    assert.deepEqual(temporariesOf(work, 'model.onnx'), []);
  });

  describe('killed mid-write', () => {
    /** 16 Mi floats: 64 MiB, which takes the child long enough to write that it can be caught halfway. */
    const LARGE_WEIGHTS = 16 << 20;
    /** Kill once the temporary file holds more than this fraction of the new model. */
    const KILL_POINTS = [0, 1 / 3, 2 / 3];
    /** On a busy machine the polling can miss the window; a save that outran its kill is tried again. */
    const ATTEMPTS_PER_POINT = 5;

    interface KilledSave {
      readonly temporary: string;
      /** What the temporary file held once the child was dead; undefined when it had been renamed already. */
      readonly written: number | undefined;
    }

    const sizeOf = (filePath: string) => statSync(filePath, { throwIfNoEntry: false })?.size;

    /**
     * Saves `source` over `target` in a child process and SIGKILLs the child once its temporary file
     * holds more than `bytes` bytes; undefined when the save finished first.
     */
    async function killSaveWhenWritten(source: string, target: string, bytes: number): Promise<KilledSave | undefined> {
      const child = fork(SAVE_CHILD, [source, target], { stdio: 'ignore' });
      const folder = path.dirname(target);
      const prefix = `.${path.basename(target)}.${child.pid}.`;
      while (child.exitCode === null) {
        const temporary = readdirSync(folder).find((name) => name.startsWith(prefix));
        if (temporary && (sizeOf(path.join(folder, temporary)) ?? 0) > bytes) {
          child.kill('SIGKILL');
          await exited(child);
          return { temporary, written: sizeOf(path.join(folder, temporary)) };
        }
        await new Promise(setImmediate);
      }
      return undefined;
    }

    it('leaves the original whole each time, and the next save removes the dead processes\' temporary files', async function () {
      this.timeout(300_000);
      const target = path.join(work, 'model.onnx');
      const source = path.join(work, 'large.onnx');
      const original = modelBytes(1000, 5);
      const large = modelBytes(LARGE_WEIGHTS, 6);
      writeFileSync(target, original);
      writeFileSync(source, large);

      for (const point of KILL_POINTS) {
        const threshold = Math.floor(point * large.length);
        let partial: KilledSave | undefined;
        for (let attempt = 1; attempt <= ATTEMPTS_PER_POINT && !partial; attempt++) {
          const killed = await killSaveWhenWritten(source, target, threshold);
          if (killed?.written !== undefined && killed.written < large.length) partial = killed;
          else if (killed?.written === large.length) await assertIntact(target, original);
          else {
            // The save completed before the kill: it must have left the whole new model; start again from the original.
            assert.ok(readFileSync(target).equals(large), `${target} holds neither the original nor the saved model`);
            writeFileSync(target, original);
          }
        }
        assert.ok(partial, `the save outran the kill ${ATTEMPTS_PER_POINT} times past ${threshold} bytes`);
        assert.ok(partial.written! > threshold, `killed with ${partial.written} of ${large.length} bytes written`);
        await assertIntact(target, original);
        // Each save began by removing the temporary files of the saves killed before it.
        assert.deepEqual(temporariesOf(work, 'model.onnx'), [partial.temporary]);
      }

      const reopened = await OnnxModel.open(target);
      reopened.proto.docString = 'saved after the crashes';
      await reopened.save(target);

      assert.deepEqual(temporariesOf(work, 'model.onnx'), []);
      assert.equal((await OnnxModel.open(target)).proto.docString, 'saved after the crashes');
    });
  });

  describe('a save that succeeds keeps what surrounded the old file', () => {
    it('its permissions', async () => {
      const target = path.join(work, 'private.onnx');
      writeFileSync(target, modelBytes(10, 8));
      chmodSync(target, 0o600);
      await writeBytesAtomic(target, modelBytes(20, 9));
      assert.equal(statSync(target).mode & 0o777, 0o600);
    });

    it('a symlink to it: the file it points to gets the new bytes, the link stays a link', async () => {
      const real = path.join(work, 'models', 'model.onnx');
      const link = path.join(work, 'link.onnx');
      mkdirSync(path.dirname(real));
      writeFileSync(real, modelBytes(10, 10));
      symlinkSync(real, link);
      const saved = modelBytes(20, 11);
      await writeBytesAtomic(link, saved);
      assert.ok(lstatSync(link).isSymbolicLink());
      assert.ok(readFileSync(real).equals(saved));
      assert.deepEqual(readdirSync(path.dirname(real)), ['model.onnx']);
    });
  });

  it('a save removes only its own target\'s temporary files, and only those of processes no longer running', async () => {
    const finished = spawn(process.execPath, ['-e', '']);
    await exited(finished);
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const stale = `.model.onnx.${finished.pid}.0123abcd.tmp`;
      const kept = [
        `.model.onnx.${running.pid}.0123abcd.tmp`,
        `.model.onnx.${process.pid}.0123abcd.tmp`,
        `.other.onnx.${finished.pid}.0123abcd.tmp`,
        `.model.onnx.notes.tmp`,
      ];
      for (const name of [stale, ...kept]) writeFileSync(path.join(work, name), 'partial');

      await writeBytesAtomic(path.join(work, 'model.onnx'), modelBytes(10, 7));

      assert.deepEqual(readdirSync(work).sort(), [...kept, 'model.onnx'].sort());
    } finally {
      running.kill('SIGKILL');
    }
  });
});
