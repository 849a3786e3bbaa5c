import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FolderExternalDataReader, OnnxModel } from '../core';
import { writeBytesAtomic } from '../core/io/atomic-write';

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
    const model = backupId ? await openBackup(uri, vscode.Uri.parse(backupId)) : await OnnxModel.open(uri.fsPath);
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

  async save(): Promise<void> {
    await this.current.save(this.uri.fsPath);
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

  /** Hot exit: the current model's bytes; external data stays where it is, next to the original file. */
  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    await fs.mkdir(path.dirname(destination.fsPath), { recursive: true });
    await writeBytesAtomic(destination.fsPath, this.current.encode());
    return { id: destination.toString(), delete: () => void fs.rm(destination.fsPath, { force: true }) };
  }

  dispose(): void {
    this.changed.dispose();
  }

  private replace(model: OnnxModel): void {
    this.current = model;
    this.changed.fire();
  }
}

async function openBackup(original: vscode.Uri, backup: vscode.Uri): Promise<OnnxModel> {
  const bytes = await fs.readFile(backup.fsPath);
  return OnnxModel.fromBytes(bytes, { externalData: new FolderExternalDataReader(path.dirname(original.fsPath)) });
}
