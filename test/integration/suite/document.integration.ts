import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { layerId, OnnxModel } from '../../../src/core';

const VIEW_TYPE = 'onnxLens.editor';
const LAYER_ID = 'main::/layer1/Gemm';
const LAYER_WEIGHT_INPUT = 1;
const WAIT_MS = 30_000;

/** The openwakeword model the extension is installed with in the repository's node_modules, copied so the test may change it. */
async function copyOfSampleModel(): Promise<vscode.Uri> {
  const source = path.resolve(__dirname, '..', '..', '..', '..', 'node_modules', 'openwakeword-js', 'models', 'hello_deepa.onnx');
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-lens-integration-'));
  const target = path.join(folder, 'model.onnx');
  await fs.copyFile(source, target);
  return vscode.Uri.file(target);
}

function editorTab(uri: vscode.Uri): vscode.Tab | undefined {
  return vscode.window.tabGroups.all.flatMap((group) => group.tabs)
    .find((tab) => tab.input instanceof vscode.TabInputCustom && tab.input.uri.toString() === uri.toString());
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The data type the layer's weight is stored in, read from the file on disk. */
async function storedWeightType(uri: vscode.Uri): Promise<string> {
  const model = await OnnxModel.open(uri.fsPath);
  const layer = model.layers().find((candidate) => layerId(candidate.node) === LAYER_ID);
  assert.ok(layer, `${LAYER_ID} is a layer of the saved model.`);
  return layer.weights.find((entry) => entry.inputIndex === LAYER_WEIGHT_INPUT)!.weight.tensor.dataType.name;
}

describe('the ONNX Lens document in VS Code', function () {
  let uri: vscode.Uri;

  before(async function () {
    uri = await copyOfSampleModel();
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE);
    await waitFor('the editor tab', () => editorTab(uri) !== undefined);
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await fs.rm(path.dirname(uri.fsPath), { recursive: true, force: true });
  });

  it('applies a layer action as an edit: dirty, the file unchanged until saved', async function () {
    const before = await fs.readFile(uri.fsPath);
    await vscode.commands.executeCommand('onnxLens.runLayerAction', { model: uri.toString(), layerId: LAYER_ID, action: 'quantize-int8' });
    await waitFor('the dirty marker', () => editorTab(uri)?.isDirty === true);
    assert.deepEqual(await fs.readFile(uri.fsPath), before, 'an edit does not touch the file');
  });

  it('saves the edit to the file, which then holds the int8 weight', async function () {
    await vscode.commands.executeCommand('workbench.action.files.save');
    await waitFor('the save', () => editorTab(uri)?.isDirty === false);
    assert.equal(await storedWeightType(uri), 'int8');
  });

  it('undoes the edit after the save, and reverting brings back the saved model', async function () {
    await vscode.commands.executeCommand('undo');
    await waitFor('the undo to make the editor dirty', () => editorTab(uri)?.isDirty === true);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await waitFor('the revert', () => editorTab(uri)?.isDirty === false);
    assert.equal(await storedWeightType(uri), 'int8');
  });
});
