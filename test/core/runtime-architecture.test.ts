/**
 * One module imports onnxruntime-node, and it runs in a child process that
 * VS Code can start (its own executable as plain Node).
 */
import { strict as assert } from 'node:assert';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { OrtRuntime } from '../../src/core';
import { REAL_MODELS, REPO_ROOT } from '../support/fixtures';

const ORT_IMPORT = /(?:from\s+|require\(\s*|import\(\s*)['"]onnxruntime-node['"]/;
const CHILD_MODULE = 'src/core/runtime/ort-child.ts';

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(REPO_ROOT, path.join(entry.parentPath, entry.name)));
}

describe('runtime architecture', () => {
  it(`has ${CHILD_MODULE} as the only source module that imports onnxruntime-node`, async () => {
    const importing = (await sourceFiles(path.join(REPO_ROOT, 'src')))
      .filter((file) => ORT_IMPORT.test(readFileSync(path.join(REPO_ROOT, file), 'utf8')));
    assert.deepEqual(importing, [CHILD_MODULE]);
  });

  it('bundles the child as an entry point of its own, and no other bundle loads onnxruntime-node', () => {
    const bundle = (name: string) => {
      const file = path.join(REPO_ROOT, 'dist', name);
      assert.ok(existsSync(file), `${file} is missing: run "npm run build" first`);
      return readFileSync(file, 'utf8');
    };
    assert.match(bundle('ort-child.js'), /require\("onnxruntime-node"\)/);
    for (const name of ['cli.js', 'extension.js']) assert.doesNotMatch(bundle(name), /require\("onnxruntime-node"\)/, name);
  });

  it('starts the child with the caller\'s own executable and ELECTRON_RUN_AS_NODE, as VS Code needs', async function () {
    if (process.platform !== 'linux') this.skip();
    const runtime = new OrtRuntime();
    try {
      const session = await runtime.load({ name: 'hello_deepa', path: REAL_MODELS.helloDeepa }, { intraOpThreads: 1 });
      const pid = session.process.pid!;
      const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.ok(environment.includes('ELECTRON_RUN_AS_NODE=1'));
      assert.equal(commandLine[0], process.execPath);
      assert.equal(path.basename(commandLine[1]), 'ort-child.js');
    } finally {
      runtime.dispose();
    }
  });
});
