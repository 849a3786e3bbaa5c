import * as path from 'node:path';
import * as vscode from 'vscode';
import { benchmarkModels, InvalidArgumentError, Layer, OnnxModel, OrtRuntime, PassResult, pruneMagnitude } from '../core';
import { Delta, HostToWebview, LayerAction, ModelDeltas, parseWebviewMessage, RequestKind, RequestMap, RequestMessage } from '../shared/protocol';
import { ACTION_LABELS, actionAvailability, applyLayerAction, layerDeltas, runPass } from './layer-actions';
import { log } from './log';
import { checkMayRunModels, deltaOfComparison, measureChange, measureSettings } from './measurement';
import { ModelActionKind, ModelPassChoice, pickPruning, pickQuantization } from './model-actions';
import { layerId, summarizeLayer, summarizeOverview, tableLayers } from './model-summary';
import { ModelEdit, OnnxDocument } from './onnx-document';
import { streamStatistics } from './statistics';
import { messageOf, showError, withoutLinks } from './user-errors';
import { editorHtml, webviewRoots } from './webview-html';

type RecordEdit = (label: string, after: OnnxModel) => ModelEdit;

/** What the edits that produced a version of the model bought and cost; kept per version so undo and redo show theirs. */
const deltasOfVersion = new WeakMap<OnnxModel, ModelDeltas>();

function addDeltas(version: OnnxModel, base: ModelDeltas | undefined, added: Partial<ModelDeltas>): ModelDeltas {
  const layers = new Map((base?.layers ?? []).map((entry) => [entry.layerId, entry]));
  for (const entry of added.layers ?? []) layers.set(entry.layerId, entry);
  const deltas = { model: added.model ?? base?.model, layers: [...layers.values()] };
  deltasOfVersion.set(version, deltas);
  return deltas;
}

/** One open editor panel: renders the document in its webview and carries out what the user asks there. */
export class EditorSession {
  private analysis?: AbortController;
  private layers = new Map<string, Layer>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    readonly document: OnnxDocument,
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly recordEdit: RecordEdit,
  ) {
    panel.webview.options = { enableScripts: true, localResourceRoots: webviewRoots(extensionUri) };
    panel.webview.html = editorHtml(panel.webview, extensionUri);
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((message) => this.receive(message)),
      document.onDidChangeModel(() => this.publishModel()),
    );
    panel.onDidDispose(() => this.dispose());
  }

  layerChoices(): (vscode.QuickPickItem & { layerId: string })[] {
    return [...this.layers].map(([id, layer]) => ({ label: layer.node.label, description: `${layer.node.opType} · ${layer.node.scope}`, layerId: id }));
  }

  /** Runs an action on one layer; a change joins the undo stack, and its measured cost follows. */
  async runLayerAction(id: string, action: LayerAction, value?: number): Promise<RequestMap['run-layer-action']['result']> {
    const layer = this.layers.get(id);
    if (!layer) throw new InvalidArgumentError(`There is no layer ${JSON.stringify(id)} in this model any more.`);
    if (action === 'measure') return { delta: await this.measureLayer(layer) };
    const result = await this.withProgress(`${ACTION_LABELS[action]}: ${layer.node.label}`,
      (signal) => applyLayerAction(this.document.model, layer, action, value, signal));
    const deltas = this.applyPass(`${ACTION_LABELS[action]} ${layer.node.label}`, result, action);
    return { delta: deltas.find((entry) => entry.layerId === id)?.delta };
  }

  async runModelAction(kind: ModelActionKind): Promise<void> {
    if (kind === 'measure-latency') return this.measureLatency();
    if (kind === 'compare-saved') return this.compareWithSaved();
    const choice = kind === 'quantize' ? await pickQuantization() : await pickPruning();
    if (!choice) return;
    const result = await this.withProgress(`${ACTION_LABELS[choice.action]}: whole model`, (signal) => this.runModelPass(choice, signal));
    this.applyPass(`${ACTION_LABELS[choice.action]} (model)`, result, choice.action);
  }

  private runModelPass(choice: ModelPassChoice, signal: AbortSignal): Promise<PassResult> {
    if (choice.global) return pruneMagnitude(this.document.model, { globalSparsity: choice.value, signal });
    return runPass(this.document.model, choice.action, choice.value, undefined, signal);
  }

  /** Makes a pass's model current (undoable), shows what it changed, then measures it in the background. */
  private applyPass(label: string, result: PassResult, action: LayerAction) {
    if (result.report.tensors.length === 0) {
      throw new InvalidArgumentError(result.report.skipped[0]?.reason ?? `${result.report.summary}: nothing to change.`);
    }
    const before = this.document.model;
    const deltas = layerDeltas(result, action);
    const modelDelta: Delta = { label: result.report.summary, bytesBefore: result.report.modelBytes.before, bytesAfter: result.report.modelBytes.after };
    addDeltas(result.model, deltasOfVersion.get(before), { model: modelDelta, layers: deltas });
    this.recordEdit(label, result.model);
    void this.measureInBackground(label, before, result.model);
    return deltas;
  }

  private async measureInBackground(label: string, before: OnnxModel, after: OnnxModel): Promise<void> {
    if (!vscode.workspace.isTrusted) return;
    try {
      const comparison = await this.withProgress(`Measuring ${label}`, (signal, report) => measureChange(before, after, signal, report));
      const measured = addDeltas(after, deltasOfVersion.get(after), { model: deltaOfComparison(label, comparison) });
      if (this.document.model === after) this.post({ type: 'deltas', ...measured });
    } catch (error) {
      log.warn(`Measuring "${label}" failed: ${messageOf(error)}`);
      showError(error);
    }
  }

  /** What int8 quantization of this layer alone would cost, measured without changing the document. */
  private async measureLayer(layer: Layer): Promise<Delta> {
    checkMayRunModels();
    const before = this.document.model;
    const result = await this.withProgress(`Measuring int8 on ${layer.node.label}`, (signal) => applyLayerAction(before, layer, 'quantize-int8', undefined, signal));
    const comparison = await this.withProgress(`Measuring int8 on ${layer.node.label}`, (signal, report) => measureChange(before, result.model, signal, report));
    const delta = { ...deltaOfComparison(`int8 ${layer.node.label} (preview)`, comparison), sqnr: layerDeltas(result, 'quantize-int8')[0]?.delta.sqnr };
    this.post({ type: 'deltas', model: delta, layers: [{ layerId: layerId(layer), delta }] });
    return delta;
  }

  private async measureLatency(): Promise<void> {
    checkMayRunModels();
    const settings = measureSettings();
    const runtime = new OrtRuntime({ timeoutMs: settings.timeoutMs });
    try {
      const report = await this.withProgress('Measuring latency', (signal) =>
        benchmarkModels(runtime, [{ name: path.basename(this.document.uri.fsPath), model: this.document.model }], { rounds: settings.rounds, threads: settings.threads, signal }));
      const { latency } = report.models[0];
      void vscode.window.showInformationMessage(withoutLinks(
        `${path.basename(this.document.uri.fsPath)}: median ${latency.medianMs.toFixed(2)} ms, p90 ${latency.p90Ms.toFixed(2)} ms over ${latency.runs} runs (${settings.threads} thread${settings.threads === 1 ? '' : 's'}).`));
    } finally {
      runtime.dispose();
    }
  }

  private async compareWithSaved(): Promise<void> {
    checkMayRunModels();
    const saved = await OnnxModel.open(this.document.uri.fsPath);
    const comparison = await this.withProgress('Comparing with the saved file', (signal, report) => measureChange(saved, this.document.model, signal, report));
    this.post({ type: 'deltas', model: deltaOfComparison('Against the saved file', comparison), layers: deltasOfVersion.get(this.document.model)?.layers ?? [] });
  }

  private withProgress<T>(title: string, work: (signal: AbortSignal, report: (message: string) => void) => Promise<T>): Promise<T> {
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `ONNX Lens: ${title}`, cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return work(controller.signal, (message) => progress.report({ message }));
      },
    ));
  }

  private async receive(raw: unknown): Promise<void> {
    const message = parseWebviewMessage(raw);
    if (!message) {
      log.warn(`Dropped a malformed message from the webview: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    if (message.type === 'ready') this.publishModel();
    else await this.answer(message);
  }

  private async answer(message: RequestMessage): Promise<void> {
    try {
      const result = await this.handle(message.kind, message.params);
      this.post({ type: 'response', id: message.id, ok: true, result });
    } catch (error) {
      showError(error);
      this.post({ type: 'response', id: message.id, ok: false, error: messageOf(error) });
    }
  }

  private async handle<K extends RequestKind>(kind: K, params: RequestMap[K]['params']): Promise<RequestMap[K]['result']> {
    if (kind === 'run-layer-action') {
      const { layerId: id, action, value } = params as RequestMap['run-layer-action']['params'];
      return this.runLayerAction(id, action, value) as Promise<RequestMap[K]['result']>;
    }
    return {} as RequestMap[K]['result'];
  }

  private publishModel(): void {
    const model = this.document.model;
    const layers = tableLayers(model);
    this.layers = new Map(layers.map((layer) => [layerId(layer), layer]));
    const availability = actionAvailability(model);
    const rows = layers.map((layer) => summarizeLayer(layer, availability.get(layerId(layer)) ?? []));
    this.post({
      type: 'model', overview: summarizeOverview(model, this.document.uri.fsPath), layers: rows, dirty: this.document.isDirty,
      deltas: deltasOfVersion.get(model) ?? { layers: [] },
    });
    this.restartAnalysis(model, layers);
  }

  private restartAnalysis(model: OnnxModel, layers: Layer[]): void {
    this.analysis?.abort();
    const analysis = (this.analysis = new AbortController());
    void streamStatistics(model, layers, analysis.signal, {
      onStatistics: (statistics) => this.post({ type: 'statistics', statistics }),
      onProgress: (done, total) => this.post({ type: 'progress', message: 'Analysing weights', done, total }),
    }).catch((error: unknown) => {
      if (!analysis.signal.aborted) showError(error);
    });
  }

  private post(message: HostToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private dispose(): void {
    this.analysis?.abort();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
