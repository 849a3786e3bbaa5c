import * as vscode from 'vscode';

/** The "ONNX Lens" output channel. */
export const log = vscode.window.createOutputChannel('ONNX Lens', { log: true });
