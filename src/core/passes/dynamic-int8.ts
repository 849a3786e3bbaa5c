/**
 * Dynamic int8 in ONNX Runtime's quantize_dynamic form, so that ORT fuses it
 * (DynamicQuantizeMatMul, ConvInteger kernels): activations are quantized to
 * uint8 at run time by DynamicQuantizeLinear (shared by the layers that read
 * the same activation), weights are stored as int8 (symmetric, zero point 0):
 *
 *   MatMul  -> DynamicQuantizeLinear, MatMulInteger, Cast, Mul(scales), Mul
 *   Gemm    -> the same MatMul (B transposed when transB) then Add(C)
 *   Conv    -> DynamicQuantizeLinear, ConvInteger, Cast, Mul(scales), Mul (+ Reshape, Add for the bias)
 *   Gather  -> Gather on the int8 table, DequantizeLinear
 *
 * Node and value names follow ORT's quantizer. Unlike ORT it also quantizes
 * weights held in Constant nodes and inside If/Loop/Scan bodies.
 */
import { storedValueBytes } from '../tensor/external-data';
import { OnnxModel } from '../model/onnx-model';
import { quote } from '../errors';
import { Layer, WeightInfo } from '../model/weights';
import { onnx } from '../proto';
import { castToFloat, floatAttribute, intAttribute, makeNode } from './nodes';
import { finiteOrNull } from './quantize-int8';
import { DYNAMIC_QUANTIZE_OPSET, registerSpecialCheck, WeightTarget } from './registry';
import { ModelRewriter } from './rewriter';
import { PassRun, PlannedLayer, SkipWeight } from './run';
import { RawInt8Result } from './int8-kernel';
import { quantizeSharedInParallel } from './int8-workers';
import { tensors } from './tensors';
import { PassOptions, PassResult } from './types';
import { EqualizedWeight, isEqualized, QuantizedWeight, quantizeInt8Equalized, quantizeInt8PerChannel, quantizeInt8PerTensor, transposeInt8 } from './weight-quantizer';

export interface DynamicInt8Options extends PassOptions {
  /** One weight scale per output channel (ORT's per_channel=True); per-tensor by default, as ORT. */
  readonly perChannel?: boolean;
  /**
   * Divide each input channel of a MatMul, Gemm or Conv weight by √(its max |w|)
   * and multiply the activation by the same factor before quantizing it (one
   * Mul more per layer; weights per-channel). Off by default, as ORT; it keeps
   * models whose input channels differ widely in range (silero's encoder) accurate.
   */
  readonly equalizeInputChannels?: boolean;
}

interface StoredWeight {
  readonly weight: WeightInfo;
  readonly quantized: string;
  readonly scale: string;
  readonly zeroPoint: string;
  readonly tensors: onnx.ITensorProto[];
  readonly result: QuantizedWeight;
  readonly scheme: string;
  /** The per-input-channel factor the activation is multiplied by, when equalized. */
  readonly inputScale?: string;
}

interface QuantizedActivation {
  readonly quantized: string;
  readonly scale: string;
  readonly zeroPoint: string;
}

const opsetCheck = (layer: Layer, _targets: readonly WeightTarget[], rewriter: ModelRewriter): string | undefined => {
  const opset = rewriter.opset(layer.node.scope);
  return opset < DYNAMIC_QUANTIZE_OPSET ? `is at opset ${opset}; dynamic int8 needs DynamicQuantizeLinear (opset ${DYNAMIC_QUANTIZE_OPSET}) and the model's opset is not changed` : undefined;
};

registerSpecialCheck('dynamic-int8', 'MatMul', (layer, targets, rewriter) =>
  opsetCheck(layer, targets, rewriter) ?? (targets[0].weight.dims.length < 2 ? `has a ${targets[0].weight.dims.length}-D weight; MatMulInteger needs a matrix` : undefined));
registerSpecialCheck('dynamic-int8', 'Gemm', (layer, targets, rewriter) => {
  const node = layer.node.proto;
  if (intAttribute(node, 'transA', 0)) return 'has transA=1, which the MatMul form cannot express';
  if ((node.input ?? [])[2] && floatAttribute(node, 'beta', 1) !== 1) return `scales its bias by beta=${floatAttribute(node, 'beta', 1)}, which the MatMul and Add form does not keep`;
  return opsetCheck(layer, targets, rewriter);
});
registerSpecialCheck('dynamic-int8', 'Conv', (layer, targets, rewriter) =>
  opsetCheck(layer, targets, rewriter) ?? (targets[0].weight.dims.length < 3 ? 'has a weight of rank below 3' : undefined));
registerSpecialCheck('dynamic-int8', 'Gather', opsetCheck);

/** Dynamic int8 quantization of MatMul, Gemm, Conv and Gather layers, in ONNX Runtime's node pattern. */
export async function quantizeDynamicInt8(model: OnnxModel, options: DynamicInt8Options = {}): Promise<PassResult> {
  const run = new PassRun('dynamic-int8', model, options);
  const perTensor = run.layers.filter((planned) => planned.layer.node.opType === 'Gather' || !(options.perChannel || options.equalizeInputChannels));
  const parallel = await quantizeSharedInParallel(perTensor.map((planned) => planned.targets[0].weight));
  const converter = new DynamicConverter(run, options.perChannel ?? false, options.equalizeInputChannels ?? false, parallel);
  // In node order, so that a shared DynamicQuantizeLinear lands before every layer that reads it.
  const layers = [...run.layers].sort((a, b) => a.layer.node.scope.localeCompare(b.layer.node.scope) || a.layer.node.index - b.layer.node.index);
  for (const planned of layers) {
    await converter.convert(planned).catch((error: unknown) => {
      if (!(error instanceof SkipWeight)) throw error;
      run.skip(planned, error.message);
    });
    run.step(layers.length);
  }
  converter.retireOriginals();
  return run.finish();
}

class DynamicConverter {
  private readonly stored = new Map<string, StoredWeight>();
  /** How many uses of each weight now read an int8 copy. */
  private readonly convertedUses = new Map<WeightInfo, number>();
  private readonly activations = new Map<string, QuantizedActivation>();
  private readonly rewriter: ModelRewriter;

  constructor(
    private readonly run: PassRun, private readonly perChannel: boolean, private readonly equalize: boolean,
    private readonly computed: ReadonlyMap<WeightInfo, RawInt8Result>,
  ) {
    this.rewriter = run.rewriter;
  }

  async convert(planned: PlannedLayer): Promise<void> {
    const { node } = planned.layer;
    const target = planned.targets[0];
    switch (node.opType) {
      case 'MatMul': return this.replace(planned, await this.matMul(node.proto, node.scope, node.proto.name ?? '', node.proto.output![0], target, false));
      case 'Gemm': return this.replace(planned, await this.gemm(planned, target));
      case 'Conv': return this.replace(planned, await this.conv(planned, target));
      case 'Gather': return this.replace(planned, await this.gather(planned, target));
    }
  }

  /** Removes each quantized weight whose every use was converted; reports each weight once. */
  retireOriginals(): void {
    for (const [weight, converted] of this.convertedUses) {
      const copies = [...this.stored.values()].filter((stored) => stored.weight === weight);
      const kept = converted < weight.uses.length || this.rewriter.isGraphOutput(weight.name);
      if (kept) this.run.notes.push(`Weight ${quote(weight.name)} is still read as float32 by other nodes, so it is kept beside its int8 copy.`);
      else this.rewriter.removeWeight(weight);
      const copyBytes = copies.flatMap((copy) => copy.tensors).reduce((total, tensor) => total + storedValueBytes(tensor), 0);
      this.run.record(weight, {
        after: { dataType: 'int8', dims: copies[0].result.dims },
        replacement: copyBytes + (kept ? weight.tensor.byteLength : 0), replacedBy: copies.map((copy) => copy.quantized),
        sqnrDb: finiteOrNull(copies[0].result.sqnrDb), scheme: copies.map((copy) => copy.scheme).join('; '),
      });
    }
  }

  private replace(planned: PlannedLayer, nodes: onnx.INodeProto[] | undefined): void {
    if (nodes) this.rewriter.replaceNode(planned.layer.node, nodes);
  }

  private async matMul(
    original: onnx.INodeProto, scope: string, name: string, output: string, target: WeightTarget, transposed: boolean, alpha = 1,
  ): Promise<onnx.INodeProto[]> {
    const weight = await this.storedWeight(target, transposed ? 'transposed' : 'matrix', alpha);
    const activation = this.activation(scope, original.input![0], weight.inputScale);
    const prefix = name ? `${name}_quant` : '';
    const integerOutput = this.rewriter.uniqueName(`${output}_output_quantized`);
    const matMulInteger = makeNode('MatMulInteger', [activation.value.quantized, weight.quantized, activation.value.zeroPoint, weight.zeroPoint], [integerOutput], this.nodeName(prefix));
    return [...activation.nodes, matMulInteger, ...this.rescale(integerOutput, output, prefix, activation.value, weight)];
  }

  private async gemm(planned: PlannedLayer, target: WeightTarget): Promise<onnx.INodeProto[]> {
    const node = planned.layer.node.proto;
    const [, , bias] = node.input ?? [];
    const output = node.output![0];
    const name = node.name ? `${node.name}_MatMul` : '';
    const product = bias ? this.rewriter.uniqueName(`${output}_MatMul`) : output;
    const alpha = floatAttribute(node, 'alpha', 1);
    const nodes = await this.matMul(node, planned.layer.node.scope, name, product, target, intAttribute(node, 'transB', 0) === 1, alpha);
    if (!bias) return nodes;
    return [...nodes, makeNode('Add', [product, bias], [output], this.nodeName(node.name ? `${node.name}_Add` : ''))];
  }

  private async conv(planned: PlannedLayer, target: WeightTarget): Promise<onnx.INodeProto[]> {
    const node = planned.layer.node.proto;
    const [input, , bias] = node.input ?? [];
    const output = node.output![0];
    const weight = await this.storedWeight(target, 'filters');
    const activation = this.activation(planned.layer.node.scope, input, weight.inputScale);
    const prefix = node.name ? `${node.name}_quant` : '';
    const integerOutput = this.rewriter.uniqueName(`${output}_output_quantized`);
    const convInteger = makeNode('ConvInteger', [activation.value.quantized, weight.quantized, activation.value.zeroPoint, weight.zeroPoint], [integerOutput], this.nodeName(prefix), node.attribute ?? []);
    const scaled = bias ? this.rewriter.uniqueName(`${output}quant_scaled_output`) : output;
    const nodes = [...activation.nodes, convInteger, ...this.rescale(integerOutput, scaled, prefix, activation.value, weight)];
    return bias ? [...nodes, ...this.convBias(planned.layer.node.scope, bias, scaled, output, target.weight.dims.length)] : nodes;
  }

  /** ORT adds the float bias after rescaling: Reshape it to [1, C, 1, ...] and Add. */
  private convBias(scope: string, bias: string, scaled: string, output: string, rank: number): onnx.INodeProto[] {
    const shape = tensors.int64(this.rewriter.uniqueName(`${output}_bias_reshape_shape`), [rank], Array.from({ length: rank }, (_, axis) => (axis === 1 ? -1 : 1)));
    this.rewriter.addTensors(scope, [shape]);
    const reshaped = this.rewriter.uniqueName(`${output}_bias_reshape_output`);
    return [
      makeNode('Reshape', [bias, shape.name], [reshaped], ''),
      makeNode('Add', [scaled, reshaped], [output], this.nodeName(`${output}_bias_add`)),
    ];
  }

  private async gather(planned: PlannedLayer, target: WeightTarget): Promise<onnx.INodeProto[]> {
    const node = planned.layer.node.proto;
    const output = node.output![0];
    const weight = await this.storedWeight(target, 'table');
    const gathered = this.rewriter.uniqueName(`${output}_quantized`);
    const gather = makeNode('Gather', [weight.quantized, node.input![1]], [gathered], node.name ?? '', node.attribute ?? []);
    const dequantized = makeNode('DequantizeLinear', [gathered, weight.scale, weight.zeroPoint], [output], this.nodeName(`${output}_DequantizeLinear`));
    return [gather, dequantized];
  }

  /** Cast the int32 result to float, multiply the two scales, and the result by their product. */
  private rescale(integerOutput: string, output: string, prefix: string, activation: QuantizedActivation, weight: StoredWeight): onnx.INodeProto[] {
    const castOutput = this.rewriter.uniqueName(`${integerOutput}_cast_output`);
    const scalesName = prefix ? `${prefix}_scales_mul` : `${activation.scale}_${weight.scale}_mul`;
    const scalesOutput = this.rewriter.uniqueName(`${scalesName}:0`);
    return [
      castToFloat(integerOutput, castOutput, this.nodeName(`${integerOutput}_cast`), DYNAMIC_QUANTIZE_OPSET),
      makeNode('Mul', [activation.scale, weight.scale], [scalesOutput], this.nodeName(scalesName)),
      makeNode('Mul', [castOutput, scalesOutput], [output], this.nodeName(prefix ? `${prefix}_output_scale_mul` : '')),
    ];
  }

  /**
   * The activation's DynamicQuantizeLinear: new (with its node) for the first
   * layer that reads it in a scope, shared after; multiplied first by the
   * weight's input-channel factors when the weight was equalized.
   */
  private activation(scope: string, original: string, inputScale?: string): { value: QuantizedActivation; nodes: onnx.INodeProto[] } {
    const key = `${scope}\u0000${original}\u0000${inputScale ?? ''}`;
    const known = this.activations.get(key);
    if (known) return { value: known, nodes: [] };
    const input = inputScale ? this.rewriter.uniqueName(`${original}_equalized`) : original;
    const equalize = inputScale ? [makeNode('Mul', [original, inputScale], [input], this.nodeName(`${input}_Mul`))] : [];
    const value = {
      quantized: this.rewriter.uniqueName(`${input}_quantized`),
      scale: this.rewriter.uniqueName(`${input}_scale`),
      zeroPoint: this.rewriter.uniqueName(`${input}_zero_point`),
    };
    this.activations.set(key, value);
    const node = makeNode('DynamicQuantizeLinear', [input], [value.quantized, value.scale, value.zeroPoint], this.nodeName(`${input}_QuantizeLinear`));
    return { value, nodes: [...equalize, node] };
  }

  /**
   * The weight as int8 with its scale and zero point, stored once per layout:
   * "matrix" (MatMul's B), "transposed" (Gemm's B with transB), "filters"
   * (Conv's W; per-channel scales shaped to broadcast over the output), "table" (Gather, per-tensor).
   */
  private async storedWeight(target: WeightTarget, layout: 'matrix' | 'transposed' | 'filters' | 'table', alpha = 1): Promise<StoredWeight> {
    const { weight } = target;
    const key = `${weight.id}\u0000${layout}\u0000${alpha}`;
    const stored = this.stored.get(key) ?? await this.store(target, layout, alpha);
    this.stored.set(key, stored);
    this.convertedUses.set(weight, (this.convertedUses.get(weight) ?? 0) + 1);
    return stored;
  }

  private async store(target: WeightTarget, layout: 'matrix' | 'transposed' | 'filters' | 'table', alpha: number): Promise<StoredWeight> {
    const { weight } = target;
    const equalize = this.equalize && layout !== 'table' && target.inputAxis !== undefined && weight.dims[target.inputAxis] > 1;
    const perChannel = (this.perChannel || equalize) && layout !== 'table';
    let result: QuantizedWeight | EqualizedWeight = equalize ? await quantizeInt8Equalized(weight, target.channelAxis, target.inputAxis!)
      : perChannel ? await quantizeInt8PerChannel(weight, target.channelAxis) : await quantizeInt8PerTensor(weight, this.computed.get(weight));
    if (layout === 'transposed') result = transposeInt8(result);
    const channels = result.scales.length;
    const scaleDims = !perChannel ? [] : layout === 'filters' ? [channels, ...weight.dims.slice(2).map(() => 1)] : [channels];
    // Conv's integer kernel takes one zero point; MatMulInteger one per column.
    const zeroPointDims = perChannel && layout !== 'filters' ? [channels] : [];
    const scales = alpha === 1 ? result.scales : result.scales.map((scale) => Math.fround(scale * alpha));
    const stored: StoredWeight = {
      weight, result,
      quantized: this.rewriter.uniqueName(`${weight.name}_quantized`),
      scale: this.rewriter.uniqueName(`${weight.name}_scale`),
      zeroPoint: this.rewriter.uniqueName(`${weight.name}_zero_point`),
      tensors: [],
      scheme: `int8 ${perChannel ? 'per-channel' : 'per-tensor'}${equalize ? ', input channels equalized' : ''}${layout === 'transposed' ? ', transposed for MatMul' : ''}${alpha === 1 ? '' : `, alpha ${alpha} folded into the scale`}`,
      ...(equalize ? { inputScale: this.rewriter.uniqueName(`${weight.name}_input_scale`) } : {}),
    };
    if (isEqualized(result) && stored.inputScale) {
      const factors = result.inputScales;
      // Conv activations are [N, C, spatial...]: the factors broadcast along axis 1; MatMul's along the last axis.
      const dims = layout === 'filters' ? [factors.length, ...weight.dims.slice(2).map(() => 1)] : [factors.length];
      stored.tensors.push(tensors.float32(stored.inputScale, dims, factors));
    }
    stored.tensors.push(
      tensors.int8(stored.quantized, result.dims, result.values),
      tensors.float32(stored.scale, scaleDims, scales),
      tensorsZero(stored.zeroPoint, zeroPointDims),
    );
    this.rewriter.addTensors(weight.scope, stored.tensors);
    return stored;
  }

  private nodeName(name: string): string {
    return name ? this.rewriter.uniqueName(name) : '';
  }
}

function tensorsZero(name: string, dims: readonly number[]): onnx.TensorProto {
  return tensors.int8(name, dims, new Int8Array(dims.reduce((a, b) => a * b, 1)));
}
