import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/** A file of a test workspace: copied from somewhere, or written from content. */
export type WorkspaceFile = { copyFrom: string } | { content: string | Uint8Array };

/** Creates a temporary folder holding the given files (names may contain subfolders). */
export async function createWorkspace(files: Record<string, WorkspaceFile>): Promise<string> {
  const workspaceDir = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-lens-e2e-workspace-'));
  for (const [name, file] of Object.entries(files)) {
    const target = path.join(workspaceDir, name);
    await fs.mkdir(path.dirname(target), { recursive: true });
    if ('copyFrom' in file) await fs.copyFile(file.copyFrom, target);
    else await fs.writeFile(target, file.content);
  }
  return workspaceDir;
}
