import * as vscode from 'vscode';
import { modelToText, TextLine } from '../core';
import type { LayerAction } from '../shared/protocol';
import { layerId, layerIdOf, tableLayers } from './model-summary';
import { OnnxDocument } from './onnx-document';

export const TEXT_SCHEME = 'onnx-lens-text';

/** Layer actions offered as code actions on a node's line, with the command that runs each. */
export const CODE_ACTIONS: readonly { action: LayerAction; title: string }[] = [
  { action: 'quantize-int8', title: 'Quantize this layer (int8)' },
  { action: 'quantize-dynamic', title: 'Quantize this layer (dynamic int8)' },
  { action: 'quantize-fp16', title: 'Quantize this layer (float16)' },
  { action: 'quantize-int4', title: 'Quantize this layer (int4, block 32)' },
  { action: 'prune-threshold', title: 'Prune below threshold…' },
  { action: 'prune-sparsity', title: 'Prune to sparsity…' },
  { action: 'prune-channels', title: 'Prune channels…' },
  { action: 'measure', title: "Measure this layer's effect" },
];

/** The read-only text view of a model: its URI carries the model's URI, so edits go to that model's editor. */
export function textViewUri(model: vscode.Uri): vscode.Uri {
  return vscode.Uri.from({ scheme: TEXT_SCHEME, path: `${model.path}.txt`, query: model.toString() });
}

export function modelUriOf(textView: vscode.Uri): vscode.Uri {
  return vscode.Uri.parse(textView.query);
}

/**
 * Serves text views from the documents open in the custom editor, so the text
 * always shows the current (possibly unsaved) model and follows undo and redo.
 */
export class ModelTextProvider implements vscode.TextDocumentContentProvider, vscode.CodeActionProvider, vscode.CodeLensProvider {
  private readonly changes = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changes.event;
  private readonly linesByView = new Map<string, TextLine[]>();

  constructor(private readonly documentFor: (model: vscode.Uri) => OnnxDocument | undefined) {}

  /** Call when a document's model changes. */
  refresh(document: OnnxDocument): void {
    this.changes.fire(textViewUri(document.uri));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const document = this.documentFor(modelUriOf(uri));
    if (!document) return '// Open the model in the ONNX Lens editor to see it as text.';
    const lines = modelToText(document.model.proto);
    this.linesByView.set(uri.toString(), lines);
    return lines.map((line) => line.text).join('\n');
  }

  /** VS Code offers no code actions in read-only editors, so each layer's line also gets a lens that lists them. */
  provideCodeLenses(textDocument: vscode.TextDocument): vscode.CodeLens[] {
    const document = this.documentFor(modelUriOf(textDocument.uri));
    const lines = this.linesByView.get(textDocument.uri.toString());
    if (!document || !lines) return [];
    const layerIds = new Set(tableLayers(document.model).map(layerId));
    return lines.flatMap((line, index) => {
      const id = line.node && layerIdOf(line.node.scope, line.node.label);
      if (!id || !layerIds.has(id)) return [];
      return [new vscode.CodeLens(new vscode.Range(index, 0, index, 0), {
        title: `Layer actions: ${line.node!.label}`, command: 'onnxLens.pickLayerAction',
        arguments: [{ model: document.uri.toString(), layerId: id }],
      })];
    });
  }

  provideCodeActions(textDocument: vscode.TextDocument, range: vscode.Range): vscode.CodeAction[] {
    const node = this.linesByView.get(textDocument.uri.toString())?.[range.start.line]?.node;
    if (!node) return [];
    const model = modelUriOf(textDocument.uri);
    const layerId = layerIdOf(node.scope, node.label);
    return CODE_ACTIONS.map(({ action, title }) => {
      const codeAction = new vscode.CodeAction(title, vscode.CodeActionKind.RefactorRewrite);
      codeAction.command = { command: 'onnxLens.runLayerAction', title, arguments: [{ model: model.toString(), layerId, action }] };
      return codeAction;
    });
  }
}
