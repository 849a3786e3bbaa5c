import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/fixtures';

describe('architecture', () => {
  it('the compiler refuses an import of vscode under src/core', function () {
    this.timeout(60_000);
    // Inside the repository so that @types resolve as they do for src/core; out/ is git-ignored.
    const probeFolder = mkdtempSync(path.join(REPO_ROOT, 'out', 'vscode-probe-'));
    try {
      writeFileSync(path.join(probeFolder, 'probe.ts'), "import type { Uri } from 'vscode';\nexport type Probe = Uri;\n");
      writeFileSync(path.join(probeFolder, 'tsconfig.json'), JSON.stringify({
        extends: path.join(REPO_ROOT, 'src/core/tsconfig.json'),
        include: [path.join(probeFolder, 'probe.ts')],
      }));
      const tsc = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', probeFolder], { encoding: 'utf8' });
      assert.notEqual(tsc.status, 0, 'tsc accepted an import of vscode in a core file');
      assert.match(tsc.stdout, /src\/core must not import vscode/);
    } finally {
      rmSync(probeFolder, { recursive: true, force: true });
    }
  });
});
