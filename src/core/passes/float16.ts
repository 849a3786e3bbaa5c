import { OnnxModel } from '../model/onnx-model';
import { quote } from '../errors';
import { floatToFloat16Bits, roundToFloat16, sqnrDb } from '../quant/quantize-math';
import { castToFloat } from './nodes';
import { finiteOrNull } from './quantize-int8';
import { WeightTarget } from './registry';
import { PassRun, SkipWeight } from './run';
import { denseFloats, tensors } from './tensors';
import { PassOptions, PassResult } from './types';

const FLOAT16_MAX = 65504;

/**
 * float16 weights: each selected weight (biases included) is stored as float16
 * and Cast back to float32 under its own name, so the graph computes in
 * float32 as before. Cast exists at every opset.
 */
export async function convertFloat16(model: OnnxModel, options: PassOptions = {}): Promise<PassResult> {
  const run = new PassRun('float16', model, options);
  await run.eachWeight((target) => convertWeight(run, target));
  return run.finish();
}

async function convertWeight(run: PassRun, { weight }: WeightTarget): Promise<void> {
  const values = await denseFloats(weight);
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]) > FLOAT16_MAX) throw new SkipWeight(`Weight ${quote(weight.name)} holds ${values[i]}, beyond float16's range of ±${FLOAT16_MAX}.`);
    bits[i] = floatToFloat16Bits(values[i]);
  }
  const rewriter = run.rewriter;
  const stored = tensors.float16(rewriter.uniqueName(`${weight.name}_fp16`), weight.dims, bits);
  rewriter.addTensors(weight.scope, [stored]);
  rewriter.redefineWeight(weight, [castToFloat(stored.name, weight.name, rewriter.uniqueName(`${weight.name}_Cast`), rewriter.opset(weight.scope))]);
  run.record(weight, {
    after: { dataType: 'float16', dims: weight.dims }, replacement: [stored],
    sqnrDb: finiteOrNull(sqnrDb(values, roundToFloat16(values))), scheme: 'float16, Cast to float32',
  });
}
