import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { OnnxEditorProvider } from './editor-provider';
import { ModelTextProvider, TEXT_SCHEME } from './text-view';

export function activate(context: vscode.ExtensionContext): void {
  const { provider, registration } = OnnxEditorProvider.register(context);
  const textProvider = new ModelTextProvider((uri) => provider.documentFor(uri));
  context.subscriptions.push(
    registration,
    provider.onDidChangeModel((document) => textProvider.refresh(document)),
    vscode.workspace.registerFileSystemProvider(TEXT_SCHEME, textProvider, { isCaseSensitive: true }),
    vscode.languages.registerCodeActionsProvider({ scheme: TEXT_SCHEME }, textProvider, {
      providedCodeActionKinds: [vscode.CodeActionKind.RefactorRewrite],
    }),
    vscode.languages.registerCodeLensProvider({ scheme: TEXT_SCHEME }, textProvider),
    ...registerCommands(provider),
  );
}

export function deactivate(): void {}
