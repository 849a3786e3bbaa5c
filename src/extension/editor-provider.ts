import * as vscode from 'vscode';
import { EditorSession } from './editor-session';
import { ModelEdit, OnnxDocument } from './onnx-document';

const SESSION_OPEN_TIMEOUT_MS = 30_000;

/** The custom editor for .onnx files: documents, their sessions (one per open panel), save, revert and backup. */
export class OnnxEditorProvider implements vscode.CustomEditorProvider<OnnxDocument> {
  static readonly viewType = 'onnxLens.editor';

  private readonly changes = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<OnnxDocument>>();
  readonly onDidChangeCustomDocument = this.changes.event;
  private readonly openSessions = new Set<EditorSession>();
  private readonly sessionOpened = new vscode.EventEmitter<EditorSession>();
  private readonly modelChanged = new vscode.EventEmitter<OnnxDocument>();
  /** Fires when any open document's model changes (edit, undo, redo, revert, save). */
  readonly onDidChangeModel = this.modelChanged.event;

  constructor(private readonly context: vscode.ExtensionContext) {}

  static register(context: vscode.ExtensionContext): { provider: OnnxEditorProvider; registration: vscode.Disposable } {
    const provider = new OnnxEditorProvider(context);
    const registration = vscode.window.registerCustomEditorProvider(OnnxEditorProvider.viewType, provider, {
      webviewOptions: { retainContextWhenHidden: true },
      supportsMultipleEditorsPerDocument: true,
    });
    return { provider, registration };
  }

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext): Promise<OnnxDocument> {
    return OnnxDocument.open(uri, openContext.backupId);
  }

  async resolveCustomEditor(document: OnnxDocument, panel: vscode.WebviewPanel): Promise<void> {
    const session = new EditorSession(document, panel, this.context.extensionUri, (label, after) => this.recordEdit(document, label, after));
    this.openSessions.add(session);
    const subscription = document.onDidChangeModel(() => this.modelChanged.fire(document));
    panel.onDidDispose(() => {
      this.openSessions.delete(session);
      subscription.dispose();
    });
    this.sessionOpened.fire(session);
  }

  sessions(): EditorSession[] {
    return [...this.openSessions];
  }

  /** The session of the editor the user is looking at, for commands run from menus and the palette. */
  activeSession(): EditorSession | undefined {
    return this.sessions().find((session) => session.panel.active) ?? this.sessions().find((session) => session.panel.visible);
  }

  documentFor(uri: vscode.Uri): OnnxDocument | undefined {
    return this.sessions().find((session) => session.document.uri.toString() === uri.toString())?.document;
  }

  /** Resolves when an editor for `uri` opens (after vscode.openWith). */
  waitForSession(uri: vscode.Uri): Promise<EditorSession> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listener.dispose();
        reject(new Error(`The ONNX Lens editor did not open ${uri.fsPath}.`));
      }, SESSION_OPEN_TIMEOUT_MS);
      const listener = this.sessionOpened.event((session) => {
        if (session.document.uri.toString() !== uri.toString()) return;
        clearTimeout(timer);
        listener.dispose();
        resolve(session);
      });
    });
  }

  saveCustomDocument(document: OnnxDocument): Thenable<void> {
    return document.save();
  }

  saveCustomDocumentAs(document: OnnxDocument, destination: vscode.Uri): Thenable<void> {
    return document.saveAs(destination);
  }

  revertCustomDocument(document: OnnxDocument): Thenable<void> {
    return document.revert();
  }

  backupCustomDocument(document: OnnxDocument, context: vscode.CustomDocumentBackupContext): Thenable<vscode.CustomDocumentBackup> {
    return document.backup(context.destination);
  }

  private recordEdit(document: OnnxDocument, label: string, after: Parameters<OnnxDocument['apply']>[1]): ModelEdit {
    const edit = document.apply(label, after);
    this.changes.fire({ document, label, undo: () => document.undo(edit), redo: () => document.redo(edit) });
    return edit;
  }
}
