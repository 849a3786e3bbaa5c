import { OnnxModel } from '../model/onnx-model';
import { SymmetricQuantization } from '../quant/quantize-math';
import { attribute, broadcastBinary, castToFloat, channelConstantDims, makeNode } from './nodes';
import { WeightTarget } from './registry';
import { ModelRewriter } from './rewriter';
import { PassRun } from './run';
import { tensors } from './tensors';
import { EqualizedWeight, isEqualized, QuantizedWeight, quantizeInt8Equalized, quantizeInt8PerChannel, quantizeInt8PerTensor } from './weight-quantizer';
import { PassOptions, PassResult } from './types';
import { onnx } from '../proto';

export interface Int8Options extends PassOptions {
  /** One scale per tensor instead of one per output channel. */
  readonly perTensor?: boolean;
}

/** DequantizeLinear came with opset 10 (one scale); its axis, for one scale per channel, with opset 13. */
const DEQUANTIZE_OPSET = 10;
const DEQUANTIZE_AXIS_OPSET = 13;
/** Per-channel scales pay for themselves when each channel has more values than a scale and zero point cost. */
const MIN_VALUES_PER_CHANNEL = 5;

/**
 * int8 weight-only quantization: each selected weight is stored as int8
 * (symmetric; per output channel unless `perTensor`, its input channels
 * equalized where that loses less) and turned back into float32 in the graph
 * under its own name, so every consumer (in subgraphs too) reads it unchanged.
 * DequantizeLinear where the opset has it, Cast then Mul where it does not;
 * the model's opset is never changed.
 */
export async function quantizeInt8(model: OnnxModel, options: Int8Options = {}): Promise<PassResult> {
  const run = new PassRun('int8', model, options);
  await run.eachWeight((target) => quantizeWeight(run, target, options.perTensor ?? false));
  return run.finish();
}

async function quantizeWeight(run: PassRun, target: WeightTarget, perTensor: boolean): Promise<void> {
  const { weight } = target;
  const axis = !perTensor && hasChannels(weight.dims, target.channelAxis) ? target.channelAxis : undefined;
  const quantized = axis === undefined ? await quantizeInt8PerTensor(weight) : await bestPerChannel(target, axis);
  const rewriter = run.rewriter;
  const opset = rewriter.opset(weight.scope);
  const form = dequantizeForm(opset, axis);
  const equalization = isEqualized(quantized) ? { scales: quantized.inputScales, axis: target.inputAxis! } : undefined;
  const { stored, nodes } = storeDequantized(rewriter, weight.scope, weight.name, weight.dims, quantized, axis, form, equalization);
  rewriter.addTensors(weight.scope, stored);
  rewriter.redefineWeight(weight, nodes);
  const grouping = axis === undefined ? 'per-tensor' : `per-channel (axis ${axis}${equalization ? `, input channels on axis ${equalization.axis} equalized` : ''})`;
  run.record(weight, {
    after: { dataType: 'int8', dims: weight.dims }, replacement: stored, sqnrDb: finiteOrNull(quantized.sqnrDb),
    scheme: `int8 ${grouping}, ${form === 'dequantize' ? 'DequantizeLinear' : `Cast then Mul (opset ${opset})`}`,
  });
}

/** Plain per-channel, or with input-channel equalization where the weight has input channels and that loses less. */
async function bestPerChannel(target: WeightTarget, axis: number): Promise<QuantizedWeight | EqualizedWeight> {
  const plain = await quantizeInt8PerChannel(target.weight, axis);
  const { inputAxis } = target;
  if (inputAxis === undefined || inputAxis === axis || !(target.weight.dims[inputAxis] > 1)) return plain;
  const equalized = await quantizeInt8Equalized(target.weight, axis, inputAxis);
  return equalized.sqnrDb > plain.sqnrDb ? equalized : plain;
}

function hasChannels(dims: readonly number[], axis: number): boolean {
  const count = dims.reduce((a, b) => a * b, 1);
  return dims.length > 0 && dims[axis] > 1 && count / dims[axis] > MIN_VALUES_PER_CHANNEL;
}

type DequantizeForm = 'dequantize' | 'cast-mul';

function dequantizeForm(opset: number, axis: number | undefined): DequantizeForm {
  return opset >= (axis === undefined ? DEQUANTIZE_OPSET : DEQUANTIZE_AXIS_OPSET) ? 'dequantize' : 'cast-mul';
}

/**
 * The int8 tensor, its scale and zero point, and the nodes that turn them back
 * into float32 under `output`: DequantizeLinear, or Cast then a broadcasting Mul.
 */
export function storeDequantized(
  rewriter: ModelRewriter, scope: string, output: string, dims: readonly number[], quantized: SymmetricQuantization,
  axis: number | undefined, form: DequantizeForm, equalization?: { scales: Float32Array; axis: number }, base = output,
): { stored: onnx.ITensorProto[]; nodes: onnx.INodeProto[] } {
  if (equalization) {
    const opset = rewriter.opset(scope);
    const inner = storeDequantized(rewriter, scope, rewriter.uniqueName(`${output}_equalized`), dims, quantized, axis, form, undefined, output);
    const scales = tensors.float32(rewriter.uniqueName(`${output}_input_scale`), channelConstantDims(equalization.scales.length, equalization.axis, dims.length, opset), equalization.scales);
    const restore = broadcastBinary('Mul', [inner.nodes[inner.nodes.length - 1].output![0], scales.name], output, rewriter.uniqueName(`${output}_Mul_input_scale`), opset, equalization.axis);
    return { stored: [...inner.stored, scales], nodes: [...inner.nodes, restore] };
  }
  const opset = rewriter.opset(scope);
  const values = tensors.int8(rewriter.uniqueName(`${base}_quantized`), dims, quantized.values);
  const scaleName = rewriter.uniqueName(`${base}_scale`);
  if (form === 'dequantize') {
    const channelDims = axis === undefined ? [] : [quantized.scales.length];
    const scale = tensors.float32(scaleName, channelDims, quantized.scales);
    const zeroPoint = tensors.int8(rewriter.uniqueName(`${base}_zero_point`), channelDims, new Int8Array(quantized.scales.length));
    const axisAttribute = axis === undefined ? [] : [attribute.int('axis', axis)];
    const dequantizeNode = makeNode('DequantizeLinear', [values.name, scale.name, zeroPoint.name], [output], rewriter.uniqueName(`${output}_DequantizeLinear`), axisAttribute);
    return { stored: [values, scale, zeroPoint], nodes: [dequantizeNode] };
  }
  const scale = tensors.float32(scaleName, channelConstantDims(quantized.scales.length, axis ?? 0, dims.length, opset), quantized.scales);
  const cast = rewriter.uniqueName(`${output}_cast`);
  return {
    stored: [values, scale],
    nodes: [
      castToFloat(values.name, cast, rewriter.uniqueName(`${output}_Cast`), opset),
      broadcastBinary('Mul', [cast, scale.name], output, rewriter.uniqueName(`${output}_Mul`), opset, axis ?? 0),
    ],
  };
}

export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
