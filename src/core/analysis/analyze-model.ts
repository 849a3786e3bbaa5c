/**
 * Analyzes every weight of a model in worker threads, so that a large model
 * never blocks the caller. Results arrive weight by weight through
 * `onProgress`, each with the layers it completed; an AbortSignal stops the
 * workers at once.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError, OnnxLensError, quote } from '../errors';
import { OnnxModel } from '../model/onnx-model';
import { Dequantization, Layer, WeightInfo } from '../model/weights';
import { TensorView } from '../tensor/tensor-view';
import { bundledScriptPath } from '../util/bundled-script';
import { AnalysisCancelledError, AnalysisWorkerError } from './analysis-errors';
import { AnalysisReply, AnalysisTask, TensorPayload } from './analysis-protocol';
import { analysisAxesOf } from './channel-axes';
import { AnalysisProgress, LayerAnalysis, ModelAnalysis, WeightAnalysis, WeightIdentity } from './report';

export interface AnalyzeOptions {
  readonly signal?: AbortSignal;
  /** Called after each weight, skipped ones included, in the order they finish. */
  readonly onProgress?: (progress: AnalysisProgress) => void;
  /** Worker threads; by default one per available core. */
  readonly workers?: number;
}

const QUANTIZATION_OPS = new Set(['DequantizeLinear', 'QuantizeLinear']);
/** Ops that read a quantized weight as integers and scale their result later in the graph. */
const INTEGER_KERNELS = new Set(['MatMulInteger', 'ConvInteger', 'MatMulNBits']);

export async function analyzeModel(model: OnnxModel, options: AnalyzeOptions = {}): Promise<ModelAnalysis> {
  const workerCount = options.workers ?? availableParallelism();
  if (!Number.isInteger(workerCount) || workerCount < 1) throw new InvalidArgumentError(`workers is ${workerCount}; it must be a whole number of at least 1.`);
  const weights = model.weights();
  const skipReasons = new Map(weights.map((weight) => [weight, reasonToSkip(weight)]));
  const toAnalyze = weights.filter((weight) => skipReasons.get(weight) === undefined);
  const progress = new ProgressTracker(weights, model.layers(), toAnalyze, options.onProgress);
  if (options.signal?.aborted) throw cancelled(progress);
  for (const [weight, reason] of skipReasons) {
    if (reason !== undefined) progress.finish({ ...identityOf(weight), status: 'skipped', reason });
  }
  await runInWorkers(toAnalyze, Math.min(workerCount, toAnalyze.length), options.signal, progress);
  return progress.report();
}

/** Why a weight gets no figures: it is no weight to compress, or its values cannot be known. */
export function reasonToSkip(weight: WeightInfo): string | undefined {
  const name = quote(weight.name);
  const type = weight.tensor.dataType;
  if (weight.elementCount === 0) return `Tensor ${name} has no elements.`;
  if (weight.dequantization?.kind === 'linear') {
    return weight.dequantization.scale ? undefined : `Tensor ${name} has a DequantizeLinear scale computed at run time, so its real values are unknown.`;
  }
  if (weight.uses.length > 0 && weight.uses.every((use) => QUANTIZATION_OPS.has(use.node.opType) && use.inputIndex > 0)) {
    return `Tensor ${name} is the scale or zero point of a quantized weight, analyzed with that weight.`;
  }
  const integerKernel = weight.uses.find((use) => INTEGER_KERNELS.has(use.node.opType));
  if (!type.isFloat && integerKernel) return `Tensor ${name} is already quantized: ${integerKernel.node.opType} reads its ${type.name} values and scales the result later in the graph.`;
  if (!type.isFloat) return `Tensor ${name} holds ${type.name} values with no DequantizeLinear: shapes, indices or flags, not weights.`;
  return undefined;
}

function identityOf(weight: WeightInfo): WeightIdentity {
  return {
    id: weight.id, name: weight.name, scope: weight.scope, origin: weight.origin, dataType: weight.tensor.dataType.name,
    dims: weight.dims, elementCount: weight.elementCount, bytes: weight.tensor.byteLength,
  };
}

function cancelled(progress: ProgressTracker): AnalysisCancelledError {
  return new AnalysisCancelledError(`The analysis was cancelled after ${progress.weightsDone} of ${progress.weightsTotal} weights.`);
}

/** Hands the weights to `count` workers, one at a time each, until all are done, one fails, or the signal fires. */
function runInWorkers(weights: readonly WeightInfo[], count: number, signal: AbortSignal | undefined, progress: ProgressTracker): Promise<void> {
  if (count === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const scriptPath = bundledScriptPath(__dirname, 'analysis-worker.js', 'analysis-worker.js');
    const workers: Worker[] = [];
    const held = new Map<Worker, WeightInfo>();
    let taken = 0;
    let outstanding = 0;
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void Promise.all(workers.map((worker) => worker.terminate())).then(() => (error ? reject(error) : resolve()));
    };
    const onAbort = () => settle(cancelled(progress));
    const record = (analysis: WeightAnalysis) => {
      outstanding--;
      try {
        progress.finish(analysis);
      } catch (error) {
        settle(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const feed = async (worker: Worker): Promise<void> => {
      while (taken < weights.length && !settled) {
        const weight = weights[taken++];
        outstanding++;
        const transfer: ArrayBuffer[] = [];
        try {
          const task = await taskFor(weight, taken, transfer);
          if (settled) return;
          held.set(worker, weight);
          worker.postMessage(task, transfer);
          return;
        } catch (error) {
          record({ ...identityOf(weight), status: 'failed', reason: failureReason(weight, error) });
        }
      }
      if (outstanding === 0) settle();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    for (let i = 0; i < count; i++) {
      const worker = new Worker(scriptPath);
      workers.push(worker);
      worker.on('message', (reply: AnalysisReply) => {
        if (settled) return;
        const weight = held.get(worker)!;
        held.delete(worker);
        record(reply.ok ? analyzed(weight, reply.figures) : { ...identityOf(weight), status: reply.status, reason: reply.reason });
        void feed(worker);
      });
      worker.on('error', (error) => settle(workerError(scriptPath, held.get(worker), error.message)));
      worker.on('exit', (code) => settle(workerError(scriptPath, held.get(worker), `it exited with code ${code}`)));
      void feed(worker);
    }
  });
}

function workerError(scriptPath: string, weight: WeightInfo | undefined, why: string): AnalysisWorkerError {
  const during = weight ? ` while analyzing ${JSON.stringify(weight.id)}` : '';
  return new AnalysisWorkerError(`The analysis worker ${JSON.stringify(scriptPath)} stopped${during}: ${why.replace(/\.$/, '')}.`, weight?.id);
}

function failureReason(weight: WeightInfo, error: unknown): string {
  return error instanceof OnnxLensError ? error.message : `Reading weight ${JSON.stringify(weight.id)} failed: ${String(error)}.`;
}

function analyzed(weight: WeightInfo, figures: Extract<AnalysisReply, { ok: true }>['figures']): WeightAnalysis {
  const q = linearDequantization(weight);
  const realValues = q && {
    dequantizedBy: q.node.label, scale: q.scale!.id, ...(q.zeroPoint ? { zeroPoint: q.zeroPoint.id } : {}), axis: q.axis, blockSize: q.blockSize,
  };
  return { ...identityOf(weight), status: 'analyzed', ...(realValues ? { realValues } : {}), ...figures };
}

/** The DequantizeLinear that maps the stored values to real ones; a float Cast keeps the values as they are. */
function linearDequantization(weight: WeightInfo): Dequantization | undefined {
  return weight.dequantization?.kind === 'linear' ? weight.dequantization : undefined;
}

export async function taskFor(weight: WeightInfo, taskId: number, transfer: ArrayBuffer[]): Promise<AnalysisTask> {
  const q = linearDequantization(weight);
  return {
    taskId,
    tensor: await payloadOf(weight.tensor, transfer),
    sparse: weight.sparse && { dims: weight.sparse.dims, indices: await payloadOf(weight.sparse.indices, transfer) },
    dequantization: q && {
      node: q.node.label,
      scale: await payloadOf(q.scale!.tensor, transfer),
      zeroPoint: q.zeroPoint && (await payloadOf(q.zeroPoint.tensor, transfer)),
      axis: q.axis,
      blockSize: q.blockSize,
    },
    axes: analysisAxesOf(weight),
  };
}

/** Shared bytes go as they are; anything else is copied, just this tensor, and the copy transferred. */
async function payloadOf(tensor: TensorView, transfer: ArrayBuffer[]): Promise<TensorPayload> {
  const raw = await tensor.rawBytes();
  const shared = raw.buffer instanceof SharedArrayBuffer;
  const bytes = shared ? raw : new Uint8Array(raw);
  if (!shared) transfer.push(bytes.buffer as ArrayBuffer);
  return { name: tensor.name, dataType: tensor.dataType.code, dims: tensor.dims, bytes, copied: !shared };
}

/** Collects results in the model's order and reports each one with the layers it completes. */
class ProgressTracker {
  readonly weightsTotal: number;
  private readonly results = new Map<string, WeightAnalysis>();
  private readonly layers: LayerAnalysis[];
  private readonly layersOf = new Map<string, LayerAnalysis[]>();
  private readonly missing = new Map<LayerAnalysis, Set<string>>();
  private readonly analyzing: Set<string>;
  private readonly elementsTotal: number;
  private elementsDone = 0;

  constructor(
    private readonly weights: readonly WeightInfo[],
    layers: readonly Layer[],
    toAnalyze: readonly WeightInfo[],
    private readonly onProgress?: (progress: AnalysisProgress) => void,
  ) {
    this.weightsTotal = weights.length;
    this.analyzing = new Set(toAnalyze.map((weight) => weight.id));
    this.elementsTotal = toAnalyze.reduce((total, weight) => total + weight.elementCount, 0);
    this.layers = layers.map(describeLayer);
    for (const layer of this.layers) {
      this.missing.set(layer, new Set(layer.weights.map((entry) => entry.id)));
      // Appended in place: copying the list per layer was quadratic for a weight shared by a million nodes.
      for (const entry of layer.weights) {
        const known = this.layersOf.get(entry.id);
        if (known) known.push(layer);
        else this.layersOf.set(entry.id, [layer]);
      }
    }
  }

  get weightsDone(): number {
    return this.results.size;
  }

  finish(analysis: WeightAnalysis): void {
    this.results.set(analysis.id, analysis);
    if (this.analyzing.has(analysis.id)) this.elementsDone += analysis.elementCount;
    const completedLayers = (this.layersOf.get(analysis.id) ?? []).filter((layer) => {
      const missing = this.missing.get(layer)!;
      missing.delete(analysis.id);
      return missing.size === 0;
    });
    this.onProgress?.({
      weight: analysis, completedLayers,
      weightsDone: this.results.size, weightsTotal: this.weightsTotal,
      elementsDone: this.elementsDone, elementsTotal: this.elementsTotal,
    });
  }

  report(): ModelAnalysis {
    const weights = this.weights.map((weight) => this.results.get(weight.id)!);
    const analyzedWeights = weights.filter((weight) => weight.status === 'analyzed');
    return {
      weights, layers: this.layers,
      analyzedWeights: analyzedWeights.length,
      analyzedElements: analyzedWeights.reduce((total, weight) => total + weight.elementCount, 0),
    };
  }
}

function describeLayer(layer: Layer): LayerAnalysis {
  return {
    node: layer.node.label, scope: layer.node.scope, opType: layer.node.opType,
    weights: layer.weights.map((entry) => ({ id: entry.weight.id, inputIndex: entry.inputIndex, viaDequantize: entry.viaDequantize })),
  };
}
