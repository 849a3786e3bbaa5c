import * as vscode from 'vscode';
import { OnnxModel, openBackup, removeWrittenModel, writeBackup } from '../core';

/** One reversible change: the models before and after it (they share every tensor the change left alone). */
export interface ModelEdit {
  readonly label: string;
  readonly before: OnnxModel;
  readonly after: OnnxModel;
}

/**
 * The document behind the custom editor: the current model and the edits that
 * led to it. VS Code owns the undo stack; each edit it holds swaps `model`
 * between two immutable versions, so undo and redo cost nothing.
 */
export class OnnxDocument implements vscode.CustomDocument {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires whenever `model` is replaced: an edit, undo, redo or revert. */
  readonly onDidChangeModel = this.changed.event;

  private constructor(readonly uri: vscode.Uri, private current: OnnxModel, private saved: OnnxModel) {}

  static async open(uri: vscode.Uri, backupId: string | undefined): Promise<OnnxDocument> {
    const model = backupId ? await openBackup(vscode.Uri.parse(backupId).fsPath, uri.fsPath) : await OnnxModel.open(uri.fsPath);
    const saved = backupId ? await OnnxModel.open(uri.fsPath).catch(() => model) : model;
    return new OnnxDocument(uri, model, saved);
  }

  get model(): OnnxModel {
    return this.current;
  }

  get isDirty(): boolean {
    return this.current !== this.saved;
  }

  /** Makes `after` current and returns the edit for VS Code's undo stack. */
  apply(label: string, after: OnnxModel): ModelEdit {
    const edit = { label, before: this.current, after };
    this.replace(after);
    return edit;
  }

  undo(edit: ModelEdit): void {
    this.replace(edit.before);
  }

  redo(edit: ModelEdit): void {
    this.replace(edit.after);
  }

  /** In place, a model that keeps its weights in one data file keeps that file's name. */
  async save(): Promise<void> {
    await this.current.save(this.uri.fsPath, { dataLocation: this.current.singleDataLocation() });
    this.saved = this.current;
    this.changed.fire();
  }

  async saveAs(target: vscode.Uri): Promise<void> {
    await this.current.save(target.fsPath);
  }

  async revert(): Promise<void> {
    const fromDisk = await OnnxModel.open(this.uri.fsPath);
    this.saved = fromDisk;
    this.replace(fromDisk);
  }

  /** Hot exit: the current model; external data of the original stays where it is and is referred to. */
  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    await writeBackup(this.current, destination.fsPath);
    return { id: destination.toString(), delete: () => void removeWrittenModel(destination.fsPath) };
  }

  dispose(): void {
    void this.current.close();
    this.changed.dispose();
  }

  private replace(model: OnnxModel): void {
    this.current = model;
    this.changed.fire();
  }
}
