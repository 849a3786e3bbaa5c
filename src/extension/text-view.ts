import * as vscode from 'vscode';
import { modelToText, OnnxModel, TextLine } from '../core';
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

/** The text view of a model: its URI carries the model's URI, so actions go to that model's editor. */
export function textViewUri(model: vscode.Uri): vscode.Uri {
  return vscode.Uri.from({ scheme: TEXT_SCHEME, path: `${model.path}.txt`, query: model.toString() });
}

export function modelUriOf(textView: vscode.Uri): vscode.Uri {
  return vscode.Uri.parse(textView.query);
}

const WRITES_REFUSED = 'The text view shows the model; change it with the layer actions (the light bulb, Ctrl+.) and save it from its ONNX Lens editor.';

/**
 * Serves text views from the documents open in the custom editor, so the text
 * always shows the current (possibly unsaved) model and follows undo and redo.
 * A file system rather than a content provider: VS Code offers code actions
 * only in editors it can write, so the view is writable and refuses to save.
 */
export class ModelTextProvider implements vscode.FileSystemProvider, vscode.CodeActionProvider, vscode.CodeLensProvider {
  private readonly changes = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changes.event;
  /** Each model version as text: lines, and the bytes VS Code reads (stat asks for their size too). */
  private readonly textOf = new WeakMap<OnnxModel, { lines: TextLine[]; bytes: Uint8Array }>();
  private readonly changedAt = new Map<string, number>();

  constructor(private readonly documentFor: (model: vscode.Uri) => OnnxDocument | undefined) {}

  /** Call when a document's model changes. */
  refresh(document: OnnxDocument): void {
    const uri = textViewUri(document.uri);
    this.changedAt.set(uri.toString(), Date.now());
    this.changes.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    const mtime = this.changedAt.get(uri.toString()) ?? 0;
    return { type: vscode.FileType.File, ctime: 0, mtime, size: this.readFile(uri).byteLength };
  }

  readFile(uri: vscode.Uri): Uint8Array {
    const document = this.documentFor(modelUriOf(uri));
    if (!document) return new TextEncoder().encode('// Open the model in the ONNX Lens editor to see it as text.');
    return this.textFor(document.model).bytes;
  }

  private textFor(model: OnnxModel): { lines: TextLine[]; bytes: Uint8Array } {
    let text = this.textOf.get(model);
    if (!text) {
      const lines = modelToText(model.proto);
      this.textOf.set(model, (text = { lines, bytes: new TextEncoder().encode(lines.map((line) => line.text).join('\n')) }));
    }
    return text;
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  writeFile(): never {
    throw vscode.FileSystemError.NoPermissions(WRITES_REFUSED);
  }

  readDirectory(): never {
    throw vscode.FileSystemError.FileNotADirectory();
  }

  createDirectory(): never {
    throw vscode.FileSystemError.NoPermissions(WRITES_REFUSED);
  }

  delete(): never {
    throw vscode.FileSystemError.NoPermissions(WRITES_REFUSED);
  }

  rename(): never {
    throw vscode.FileSystemError.NoPermissions(WRITES_REFUSED);
  }

  /** Each layer's line also gets a lens that lists its actions, for those who do not look for the light bulb. */
  provideCodeLenses(textDocument: vscode.TextDocument): vscode.CodeLens[] {
    const document = this.documentFor(modelUriOf(textDocument.uri));
    if (!document) return [];
    const { lines } = this.textFor(document.model);
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
    const model = modelUriOf(textDocument.uri);
    const document = this.documentFor(model);
    const node = document && this.textFor(document.model).lines[range.start.line]?.node;
    if (!node) return [];
    const layerId = layerIdOf(node.scope, node.label);
    if (!tableLayers(document.model).some((layer) => layerIdOf(layer.node.scope, layer.node.label) === layerId)) return [];
    return CODE_ACTIONS.map(({ action, title }) => {
      const codeAction = new vscode.CodeAction(title, vscode.CodeActionKind.RefactorRewrite);
      codeAction.command = { command: 'onnxLens.runLayerAction', title, arguments: [{ model: model.toString(), layerId, action }] };
      return codeAction;
    });
  }
}
