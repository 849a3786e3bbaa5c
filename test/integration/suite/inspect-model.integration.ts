import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'onnx-lens.onnx-lens';
const INSPECT_COMMAND = 'onnxLens.inspectModel';

function sampleModelUri(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'The launcher opens the sample models folder.');
  return vscode.Uri.joinPath(folder.uri, 'silero_vad_v5.onnx');
}

describe('ONNX Lens in VS Code', function () {
  it('activates and registers its commands', async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is installed.`);
    await extension.activate();
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes(INSPECT_COMMAND));
  });

  it('opens the report of a model as a plain-text document', async function () {
    await vscode.commands.executeCommand(INSPECT_COMMAND, sampleModelUri());
    const document = vscode.window.activeTextEditor?.document;
    assert.ok(document, 'The report is the active editor.');
    assert.equal(document.languageId, 'plaintext');
    assert.equal(document.isUntitled, true);
    const report = document.getText();
    assert.match(report, /^Producer +spox$/m);
    assert.match(report, /^\S+ +constant in main\/If_0\.else_branch +float32 +\[130,1,128\] +16640 +66560 +Conv /m);
  });
});
