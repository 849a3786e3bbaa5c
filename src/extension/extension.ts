import * as vscode from 'vscode';
import { OnnxLensError } from '../core';
import { inspectCommand } from '../cli/inspect';

/** Until the custom editor lands, the extension offers the CLI's inspect report as a read-only text document. */
export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand('onnxLens.inspectModel', inspectModel));
}

export function deactivate(): void {}

async function inspectModel(target?: vscode.Uri): Promise<void> {
  const uri = target ?? (await pickModel());
  if (!uri) return;
  if (uri.scheme !== 'file') {
    void vscode.window.showErrorMessage('ONNX Lens can inspect only models on the local file system.');
    return;
  }
  try {
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Reading ${vscode.workspace.asRelativePath(uri)}` },
      () => inspectCommand(uri.fsPath, { json: false }),
    );
    const document = await vscode.workspace.openTextDocument({ content: report, language: 'plaintext' });
    await vscode.window.showTextDocument(document, { preview: true });
  } catch (error) {
    const message = error instanceof OnnxLensError ? error.message : `Unexpected error: ${String(error)}`;
    void vscode.window.showErrorMessage(message);
  }
}

async function pickModel(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX models': ['onnx'] } });
  return picked?.[0];
}
