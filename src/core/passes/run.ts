import { OnnxModel } from '../model/onnx-model';
import { Layer, WeightInfo } from '../model/weights';
import { onnx } from '../proto';
import { PassCancelledError, PassNotApplicableError } from './errors';
import { encodedLength } from './encoded-length';
import { applicability, PASS_LABELS, WeightTarget } from './registry';
import { ModelRewriter } from './rewriter';
import { layerId, selectLayers } from './select';
import { storedBytes } from './tensors';
import { ComputedTensors } from './computed-tensors';
import { storedValueBytes } from '../tensor/external-data';
import { PassName, PassOptions, PassReport, PassResult, SkippedLayer, TensorChange, TensorSummary } from './types';

/** Thrown by a pass's work on one weight to leave it alone for a reason found only in its values. */
export class SkipWeight extends Error {}

export interface PlannedLayer {
  readonly layer: Layer;
  readonly id: string;
  readonly targets: readonly WeightTarget[];
}

/** A weight the plan changes, once however many selected layers use it. */
export interface PlannedWeight {
  readonly target: WeightTarget;
  readonly layers: readonly PlannedLayer[];
}

/**
 * One run of a pass: the working copy, the layers it applies to (and those
 * it skips, with reasons), cancellation and progress, and the report.
 */
export class PassRun {
  readonly rewriter: ModelRewriter;
  readonly layers: PlannedLayer[] = [];
  readonly skipped: SkippedLayer[] = [];
  readonly changes: Omit<TensorChange, 'layersAfter'>[] = [];
  readonly notes: string[] = [];
  /** Per change, the ids (scope::name) of the tensors that replace the weight; none where it was changed in place. */
  private readonly replacementIds: string[][] = [];
  private done = 0;

  constructor(readonly pass: PassName, private readonly input: OnnxModel, private readonly options: PassOptions) {
    this.rewriter = new ModelRewriter(input, new ComputedTensors(options.computedTensors === 'disk' || (options.computedTensors !== 'memory' && keepsWeightsOutside(input))));
    for (const { layer, explicit } of selectLayers(this.rewriter.layers, options.layers)) {
      const answer = applicability(pass, layer, this.rewriter);
      const id = layerId(layer.node);
      if (answer.applies) this.layers.push({ layer, id, targets: answer.targets });
      else if (explicit) throw new PassNotApplicableError(answer.reason, id);
      else if (layer.weights.some((entry) => entry.weight.tensor.dataType.isFloat)) this.skipped.push({ layer: id, reason: answer.reason });
    }
  }

  /** The planned weights, each once, with the first layer's channel axis. */
  weights(): PlannedWeight[] {
    const byWeight = new Map<WeightInfo, { target: WeightTarget; layers: PlannedLayer[] }>();
    for (const planned of this.layers) {
      for (const target of planned.targets) {
        const entry = byWeight.get(target.weight) ?? { target, layers: [] };
        entry.layers.push(planned);
        byWeight.set(target.weight, entry);
      }
    }
    return [...byWeight.values()];
  }

  /** Runs `work` on each planned weight; a SkipWeight it throws lists the weight's layers as skipped. */
  async eachWeight(work: (target: WeightTarget) => Promise<void>): Promise<void> {
    const weights = this.weights();
    for (const { target, layers } of weights) {
      try {
        await work(target);
      } catch (error) {
        if (!(error instanceof SkipWeight)) throw error;
        for (const layer of layers) this.skip(layer, error.message);
      }
      this.step(weights.length);
      // Bounds memory: what moved to disk is freed before the next weight is computed.
      await this.rewriter.computed.settled();
    }
  }

  /** Call between units of work: reports progress and stops a cancelled run. */
  step(total: number): void {
    if (this.options.signal?.aborted) throw new PassCancelledError(`The ${PASS_LABELS[this.pass]} pass was cancelled; the model is unchanged.`);
    this.options.onProgress?.(++this.done, total);
  }

  skip(layer: PlannedLayer | string, reason: string): void {
    this.skipped.push({ layer: typeof layer === 'string' ? layer : layer.id, reason });
  }

  /**
   * Records a changed weight. `replacement` lists every tensor that now stands
   * for it, or gives their bytes, with `replacedBy` naming the tensors layers read.
   */
  record(
    weight: WeightInfo,
    change: Omit<TensorChange, 'name' | 'scope' | 'layers' | 'layersAfter' | 'before' | 'bytesBefore' | 'bytesAfter'> & { replacement: onnx.ITensorProto[] | number; replacedBy?: string[] },
  ): void {
    const { replacement, replacedBy, ...rest } = change;
    const bytesAfter = typeof replacement === 'number' ? replacement : replacement.reduce((total, tensor) => total + storedValueBytes(tensor), 0);
    const names = replacedBy ?? (typeof replacement === 'number' ? [] : replacement.map((tensor) => tensor.name ?? ''));
    this.replacementIds.push(names.map((name) => `${weight.scope}::${name}`));
    this.changes.push({
      name: weight.name, scope: weight.scope, layers: weight.uses.map((use) => layerId(use.node)),
      before: summaryOf(weight), bytesBefore: storedBytes(weight), bytesAfter, ...rest,
    });
  }


  async finish(): Promise<PassResult> {
    await this.rewriter.computed.settled();
    const proto = this.rewriter.finish();
    const weightBytes = {
      before: this.changes.reduce((total, change) => total + change.bytesBefore, 0),
      after: this.changes.reduce((total, change) => total + change.bytesAfter, 0),
    };
    const model = this.input.withProto(proto, this.rewriter.computed.reader(this.input.externalData));
    const report: PassReport = {
      pass: this.pass,
      summary: summaryLine(this.pass, this.changes.length, weightBytes),
      tensors: this.changesWithLayersAfter(model),
      skipped: this.skipped,
      weightBytes,
      modelBytes: { before: modelByteLength(this.input), after: modelByteLength(model) },
      nodes: this.rewriter.nodeCounts,
      opsetImportsAdded: this.rewriter.opsetImportsAdded,
      notes: this.notes,
    };
    return { model, report };
  }

  /** Where the pass replaced a layer's node (MatMulInteger for MatMul...), the new layer is the one to show the change on. */
  private changesWithLayersAfter(model: OnnxModel): TensorChange[] {
    const layersByWeight = new Map<string, string[]>();
    for (const layer of model.layers()) {
      for (const { weight } of layer.weights) layersByWeight.set(weight.id, [...(layersByWeight.get(weight.id) ?? []), layerId(layer.node)]);
    }
    return this.changes.map((change, index) => {
      const after = new Set(this.replacementIds[index].flatMap((id) => layersByWeight.get(id) ?? []));
      return { ...change, layersAfter: after.size > 0 ? [...after] : change.layers };
    });
  }
}

function summaryOf(weight: WeightInfo): TensorSummary {
  return { dataType: weight.tensor.dataType.name, dims: weight.dims };
}

function keepsWeightsOutside(model: OnnxModel): boolean {
  return model.weights().some((weight) => weight.tensor.storage === 'external');
}

/** The encoded model plus the external data its tensors point to. */
function modelByteLength(model: OnnxModel): number {
  const external = model.weights().filter((weight) => weight.tensor.externalLocation).reduce((total, weight) => total + weight.tensor.byteLength, 0);
  return encodedLength(model.proto) + external;
}

const MEGABYTE = 1e6;

function summaryLine(pass: PassName, tensors: number, bytes: { before: number; after: number }): string {
  if (tensors === 0) return `${PASS_LABELS[pass]}: no tensor changed.`;
  const size = (value: number) => (value >= MEGABYTE ? `${(value / MEGABYTE).toFixed(2)} MB` : `${(value / 1000).toFixed(1)} kB`);
  const change = bytes.before > 0 ? ` (${Math.round((100 * (bytes.after - bytes.before)) / bytes.before)}%)` : '';
  return `${PASS_LABELS[pass]}: ${tensors} tensor${tensors === 1 ? '' : 's'}, ${size(bytes.before)} -> ${size(bytes.after)}${change}.`;
}
