import * as vscode from 'vscode';
import { OnnxLensError } from '../core';

/** A problem with what the user asked, shown as it is. */
export class UserFacingError extends Error {}

/** The text to show for an error: typed errors as they are, anything else marked unexpected. */
export function messageOf(error: unknown): string {
  if (error instanceof OnnxLensError || error instanceof UserFacingError) return error.message;
  return `ONNX Lens: unexpected error: ${error instanceof Error ? error.message : String(error)}`;
}

export function showError(error: unknown): void {
  if (isCancellation(error)) return;
  void vscode.window.showErrorMessage(withoutLinks(messageOf(error)));
}

/**
 * Notifications turn "[label](command:…)" into a link that runs the command, and messages
 * quote names from the model: a word joiner between "]" and "(" keeps such text inert.
 */
export function withoutLinks(message: string): string {
  return message.replace(/\]\(/g, ']\u2060(');
}

/** The user cancelled: a token's CancellationError, or the AbortError of the signal a progress notification's Cancel aborts. */
function isCancellation(error: unknown): boolean {
  return error instanceof vscode.CancellationError || (error instanceof Error && error.name === 'AbortError');
}
