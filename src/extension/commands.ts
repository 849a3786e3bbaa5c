import * as vscode from 'vscode';
import { LAYER_ACTIONS, LayerAction } from '../shared/protocol';
import { inspectCommand } from '../cli/inspect';
import { OnnxEditorProvider } from './editor-provider';
import { EditorSession } from './editor-session';
import { MODEL_ACTIONS, ModelActionKind } from './model-actions';
import { CODE_ACTIONS, textViewUri } from './text-view';
import { showError, UserFacingError } from './user-errors';

/** What a webview/context menu passes to a command: the data-vscode-context of the row. */
interface LayerMenuContext {
  readonly webviewSection?: string;
  readonly layerId?: string;
}

interface LayerActionArguments {
  readonly model: string;
  readonly layerId: string;
  readonly action: LayerAction;
  readonly value?: number;
}

/** Command id suffix for each layer action: onnxLens.layer.quantizeInt8, ... */
export function layerCommandId(action: LayerAction): string {
  return `onnxLens.layer.${action.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())}`;
}

export function registerCommands(provider: OnnxEditorProvider): vscode.Disposable[] {
  const guarded = (run: (...args: never[]) => Promise<void>) => (...args: never[]) => run(...args).catch(showError);
  return [
    vscode.commands.registerCommand('onnxLens.inspectModel', guarded(inspectModel)),
    vscode.commands.registerCommand('onnxLens.showText', guarded((target?: vscode.Uri) => showText(provider, target))),
    vscode.commands.registerCommand('onnxLens.runLayerAction', guarded((args: LayerActionArguments) => runFromCodeAction(provider, args))),
    vscode.commands.registerCommand('onnxLens.pickLayerAction', guarded((args: Omit<LayerActionArguments, 'action'>) => pickAndRun(provider, args))),
    ...LAYER_ACTIONS.map((action) => vscode.commands.registerCommand(layerCommandId(action),
      guarded((context?: LayerMenuContext) => runLayerCommand(provider, action, context)))),
    ...MODEL_ACTIONS.map(({ kind, command }) => vscode.commands.registerCommand(command,
      guarded((target?: vscode.Uri) => runModelCommand(provider, kind, target)))),
  ];
}

async function runLayerCommand(provider: OnnxEditorProvider, action: LayerAction, context?: LayerMenuContext): Promise<void> {
  const session = provider.activeSession();
  if (!session) throw new UserFacingError('Open a model in the ONNX Lens editor first.');
  const layerId = context?.layerId ?? (await pickLayer(session));
  if (!layerId) return;
  const value = await askValue(action);
  if (value === null) return;
  await session.runLayerAction(layerId, action, value);
}

async function pickAndRun(provider: OnnxEditorProvider, args: Omit<LayerActionArguments, 'action'>): Promise<void> {
  const picked = await vscode.window.showQuickPick(CODE_ACTIONS.map((entry) => ({ label: entry.title, action: entry.action })), { placeHolder: args.layerId });
  if (picked) await runFromCodeAction(provider, { ...args, action: picked.action });
}

async function runFromCodeAction(provider: OnnxEditorProvider, args: LayerActionArguments): Promise<void> {
  const session = await sessionForModel(provider, vscode.Uri.parse(args.model));
  const value = args.value ?? (await askValue(args.action));
  if (value === null) return;
  await session.runLayerAction(args.layerId, args.action, value);
}

async function runModelCommand(provider: OnnxEditorProvider, kind: ModelActionKind, target?: vscode.Uri): Promise<void> {
  const session = target ? await sessionForModel(provider, target) : provider.activeSession();
  if (!session) throw new UserFacingError('Open a model in the ONNX Lens editor first.');
  await session.runModelAction(kind);
}

/** The editor session of a model file, opening it in the ONNX Lens editor when needed (edits join its undo stack). */
async function sessionForModel(provider: OnnxEditorProvider, uri: vscode.Uri): Promise<EditorSession> {
  const open = () => provider.sessions().find((session) => session.document.uri.toString() === uri.toString());
  if (!open()) await vscode.commands.executeCommand('vscode.openWith', uri, OnnxEditorProvider.viewType);
  const session = open() ?? (await provider.waitForSession(uri));
  return session;
}

async function pickLayer(session: EditorSession): Promise<string | undefined> {
  const picked = await vscode.window.showQuickPick(session.layerChoices(), { placeHolder: 'Choose a layer', matchOnDescription: true });
  return picked?.layerId;
}

/** Asks for the number an action needs; undefined when it needs none, null when the user cancelled. */
async function askValue(action: LayerAction): Promise<number | undefined | null> {
  const prompts: Partial<Record<LayerAction, { prompt: string; value: string; check: (n: number) => boolean; scale: number }>> = {
    'prune-threshold': { prompt: 'Prune weights whose magnitude is below', value: '0.001', check: (n) => n >= 0, scale: 1 },
    'prune-sparsity': { prompt: 'Target sparsity, in percent', value: '50', check: (n) => n > 0 && n < 100, scale: 0.01 },
    'prune-channels': { prompt: 'Fraction of output channels to remove, in percent', value: '25', check: (n) => n > 0 && n < 100, scale: 0.01 },
  };
  const spec = prompts[action];
  if (!spec) return undefined;
  const text = await vscode.window.showInputBox({
    prompt: spec.prompt, value: spec.value,
    validateInput: (input) => (Number.isFinite(Number(input)) && spec.check(Number(input)) ? undefined : 'Enter a number in range.'),
  });
  return text === undefined ? null : Number(text) * spec.scale;
}

async function showText(provider: OnnxEditorProvider, target?: vscode.Uri): Promise<void> {
  const session = target ? await sessionForModel(provider, target) : provider.activeSession();
  if (!session) throw new UserFacingError('Open a model in the ONNX Lens editor first.');
  const document = await vscode.workspace.openTextDocument(textViewUri(session.document.uri));
  await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
}

async function inspectModel(target?: vscode.Uri): Promise<void> {
  const uri = target ?? (await pickModelFile());
  if (!uri) return;
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Reading ${vscode.workspace.asRelativePath(uri)}` },
    () => inspectCommand(uri.fsPath, { json: false }),
  );
  const document = await vscode.workspace.openTextDocument({ content: report, language: 'plaintext' });
  await vscode.window.showTextDocument(document, { preview: true });
}

async function pickModelFile(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX models': ['onnx'] } });
  return picked?.[0];
}

