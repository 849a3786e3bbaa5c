/**
 * The one protocol between the extension host and the editor's webview.
 * The webview sees summaries only (overview, per-layer statistics, bins,
 * deltas), never model bytes. Requests from the webview carry an id and get
 * exactly one response: a result, or an error the webview's promise rejects with.
 * Compiled into both the host and the webview bundle; it imports nothing.
 */

// ---- Summaries -------------------------------------------------------------

export interface OverviewSummary {
  readonly fileName: string;
  readonly producer: string;
  readonly irVersion: number;
  readonly opsets: readonly string[];
  readonly inputs: readonly { readonly name: string; readonly type: string }[];
  readonly outputs: readonly { readonly name: string; readonly type: string }[];
  readonly parameterCount: number;
  readonly fileBytes: number;
  readonly byDataType: readonly { readonly dataType: string; readonly parameters: number; readonly bytes: number }[];
  readonly opTypeCounts: readonly { readonly opType: string; readonly count: number }[];
  readonly nodeCount: number;
  readonly graphCount: number;
}

/** One row of the layer table: a node and its main weight. */
export interface LayerRow {
  readonly id: string;
  readonly name: string;
  readonly opType: string;
  /** Graph path for layers inside subgraphs or functions; "" for the main graph. */
  readonly scope: string;
  readonly weightName: string;
  readonly shape: readonly number[];
  readonly dataType: string;
  readonly parameters: number;
  readonly bytes: number;
  /** Which actions apply, and why the others do not (one sentence each). */
  readonly actions: readonly ActionAvailability[];
}

export interface ActionAvailability {
  readonly action: LayerAction;
  readonly applicable: boolean;
  readonly reason?: string;
}

export interface Histogram {
  readonly min: number;
  readonly max: number;
  readonly counts: readonly number[];
}

export interface SensitivityPoint {
  readonly sparsity: number;
  readonly threshold: number;
  readonly energyRemoved: number;
}

/** Statistics of a layer's main weight, streamed in as the analysis runs. */
export interface LayerStatistics {
  readonly layerId: string;
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly sparsity: number;
  readonly histogram: Histogram;
  readonly logHistogram: Histogram;
  readonly curve: readonly SensitivityPoint[];
  /** Largest sparsity that removes at most 1% of the L2 energy. */
  readonly prunableSparsity: number;
  /** Signal-to-quantization-noise ratios in dB; null when the round trip is exact (or, per channel, not applicable). */
  readonly int8Sqnr: number | null;
  readonly int8PerChannelSqnr: number | null;
  /** Per-tensor int8 loses more than 6 dB against per-channel. */
  readonly outlierChannels: boolean;
  readonly channelNorms: readonly number[];
  readonly deadChannels: number;
  /**
   * For answering "what does pruning |w| < t remove?" in the webview without
   * asking the host: below thresholds[j] lie a fraction sparsity[j] of the
   * weights holding energy[j] of Σw². Between neighbours neither moves by more than `resolution`.
   */
  readonly thresholdTable: {
    readonly thresholds: readonly number[];
    readonly sparsity: readonly number[];
    readonly energy: readonly number[];
    readonly resolution: number;
  };
}

/** What an action bought and cost, shown inline on the layer and in the header. */
export interface Delta {
  readonly label: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly gzipBefore?: number;
  readonly gzipAfter?: number;
  readonly sqnr?: number | null;
  readonly latency?: { readonly ratio: number; readonly low: number; readonly high: number; readonly withinNoise: boolean };
  readonly fidelity?: { readonly cosine: number; readonly maxAbsError: number };
}

export interface ModelDeltas {
  readonly model?: Delta;
  readonly layers: readonly { readonly layerId: string; readonly delta: Delta }[];
}

// ---- Actions ---------------------------------------------------------------

export const LAYER_ACTIONS = [
  'quantize-int8', 'quantize-dynamic', 'quantize-fp16', 'quantize-int4',
  'prune-threshold', 'prune-sparsity', 'prune-channels', 'measure',
] as const;
export type LayerAction = (typeof LAYER_ACTIONS)[number];

// ---- Requests (webview -> host) ------------------------------------------

export interface RequestMap {
  /** Apply an action to one layer; `value` is the threshold, sparsity or channel fraction where one is needed. */
  'run-layer-action': { params: { layerId: string; action: LayerAction; value?: number }; result: { delta?: Delta } };
  'select-layer': { params: { layerId: string }; result: Record<string, never> };
}
export type RequestKind = keyof RequestMap;

export interface RequestMessage<K extends RequestKind = RequestKind> {
  readonly type: 'request';
  readonly id: number;
  readonly kind: K;
  readonly params: RequestMap[K]['params'];
}

export type WebviewToHost = { readonly type: 'ready' } | RequestMessage;

// ---- Events and responses (host -> webview) --------------------------------

export type HostToWebview =
  | {
    readonly type: 'model';
    readonly overview: OverviewSummary;
    readonly layers: readonly LayerRow[];
    readonly dirty: boolean;
    /** The deltas of the edits that led to this version of the model (undo and redo bring theirs back). */
    readonly deltas: ModelDeltas;
  }
  | { readonly type: 'statistics'; readonly statistics: readonly LayerStatistics[] }
  | { readonly type: 'progress'; readonly message: string; readonly done: number; readonly total: number }
  | ({ readonly type: 'deltas' } & ModelDeltas)
  | { readonly type: 'response'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly type: 'response'; readonly id: number; readonly ok: false; readonly error: string };

// ---- Validation (the host trusts nothing the webview sends) ---------------

/** Far longer than any real layer id; bounds what an unknown id can carry into an error message. */
export const MAX_LAYER_ID_LENGTH = 16_384;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** Only the object's own properties count: nothing may come from a crafted or polluted prototype. */
const field = (record: Record<string, unknown>, key: string): unknown => (Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined);
const isRequestId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isLayerId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_LAYER_ID_LENGTH;
const isLayerAction = (value: unknown): value is LayerAction => LAYER_ACTIONS.includes(value as LayerAction);
const isOptionalFinite = (value: unknown): value is number | undefined => value === undefined || (typeof value === 'number' && Number.isFinite(value));

/** Each kind's params, rebuilt from the checked fields alone (anything else the webview sent is left behind). */
const PARAM_PARSERS: { readonly [K in RequestKind]: (params: Record<string, unknown>) => RequestMap[K]['params'] | undefined } = {
  'run-layer-action': (params) => {
    const [layerId, action, value] = [field(params, 'layerId'), field(params, 'action'), field(params, 'value')];
    if (!isLayerId(layerId) || !isLayerAction(action) || !isOptionalFinite(value)) return undefined;
    return value === undefined ? { layerId, action } : { layerId, action, value };
  },
  'select-layer': (params) => {
    const layerId = field(params, 'layerId');
    return isLayerId(layerId) ? { layerId } : undefined;
  },
};

const isRequestKind = (value: unknown): value is RequestKind => typeof value === 'string' && Object.prototype.hasOwnProperty.call(PARAM_PARSERS, value);

/** A fresh, well-formed copy of the message, or undefined when it is not one the host accepts. */
export function parseWebviewMessage(message: unknown): WebviewToHost | undefined {
  if (!isRecord(message)) return undefined;
  const type = field(message, 'type');
  if (type === 'ready') return { type: 'ready' };
  const [id, kind, params] = [field(message, 'id'), field(message, 'kind'), field(message, 'params')];
  if (type !== 'request' || !isRequestId(id) || !isRequestKind(kind) || !isRecord(params)) return undefined;
  const parsed = PARAM_PARSERS[kind](params);
  return parsed && ({ type: 'request', id, kind, params: parsed } as RequestMessage);
}
