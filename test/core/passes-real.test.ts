import { strict as assert } from 'node:assert';
import {
  convertFloat16, onnx, OnnxModel, PassResult, quantizeDynamicInt8, quantizeInt8,
} from '../../src/core';
import { REAL_MODELS } from '../support/fixtures';
import { randomFloats } from '../support/model-builder';
import { PlainTensor } from '../support/ort-protocol';
import { OrtRunner } from '../support/ort-runner';
import { checkerFailures, cosine, defaultOpset, runAll } from '../support/pass-harness';

const MIN_INT8_COSINE = 0.99;
const MIN_FLOAT16_COSINE = 0.999;
const STEPS = 24;
const SAMPLE_RATE = 16000;
/** Silero reads 512-sample chunks at 16 kHz. */
const AUDIO_CHUNK = 512;

/** Audio-like chunks: sines over noise, loud for a few chunks then quiet, so the VAD sees speech-like and silent input. */
function chunk(step: number): Float32Array {
  const loud = step % 8 >= 3 && step % 8 < 6;
  const noise = randomFloats(AUDIO_CHUNK, 1000 + step, 0.2);
  return noise.map((value, i) => (value + 0.3 * Math.sin(i * (0.05 + 0.01 * (step % 5))) + 0.2 * Math.sin(i * 0.31 + step)) * (loud ? 1 : 0.01));
}

const isFloat = (input: onnx.IValueInfoProto) => input.type?.tensorType?.elemType === onnx.TensorProto.DataType.FLOAT;

/**
 * Feeds as the model is used: silero streams audio chunks and carries its
 * recurrent state (state -> stateN, h -> hn, c -> cn) from the original
 * model's previous step; openwakeword gets feature windows.
 */
async function feedSets(runner: OrtRunner, original: OnnxModel): Promise<PlainTensor[][]> {
  const proto = original.proto;
  const inputs = proto.graph!.input!.filter((input) => !proto.graph!.initializer!.some((t) => t.name === input.name));
  const outputs = proto.graph!.output!.map((output) => output.name!);
  const stateOutput = (name: string) => outputs.find((output) => output === `${name}N` || output === `${name}n`);
  const audio = inputs.find((input) => isFloat(input) && !stateOutput(input.name!) && input.type!.tensorType!.shape!.dim!.length === 2 && !Number(input.type!.tensorType!.shape!.dim![1].dimValue ?? 0));
  const sets: PlainTensor[][] = [];
  let states = new Map<string, Float32Array>();
  for (let step = 0; step < STEPS; step++) {
    const feeds = inputs.map((input): PlainTensor => {
      const name = input.name!;
      if (!isFloat(input)) return { name, type: 'int64', dims: [], data: BigInt64Array.of(BigInt(SAMPLE_RATE)) };
      if (input === audio) return { name, type: 'float32', dims: [1, AUDIO_CHUNK], data: chunk(step) };
      const dims = input.type!.tensorType!.shape!.dim!.map((dim) => Number(dim.dimValue ?? 0) || 1);
      const count = dims.reduce((a, b) => a * b, 1);
      return { name, type: 'float32', dims, data: stateOutput(name) ? states.get(name) ?? new Float32Array(count) : randomFloats(count, step, 1) };
    });
    sets.push(feeds);
    const [[result]] = await runAll(runner, [original.encode()], [feeds]);
    states = new Map(inputs.filter((input) => stateOutput(input.name!)).map((input) => [input.name!, result.find((o) => o.name === stateOutput(input.name!))!.data as Float32Array]));
  }
  return sets;
}

/** Every float output of every step, in one vector. */
function flatOutputs(sets: PlainTensor[][]): number[] {
  return sets.flatMap((outputs) => outputs.filter((o) => o.type === 'float32').flatMap((o) => Array.from(o.data as Float32Array)));
}

interface Variant {
  readonly label: string;
  /** The bar the output cosine must clear; undefined: measured and reported only. */
  readonly min?: number;
  readonly make: (model: OnnxModel) => Promise<PassResult>;
}

const VARIANTS: Variant[] = [
  { label: 'int8 weight-only', min: MIN_INT8_COSINE, make: (m) => quantizeInt8(m) },
  { label: 'int8 weight-only per-tensor', make: (m) => quantizeInt8(m, { perTensor: true }) },
  { label: 'dynamic int8 (ORT defaults: per-tensor)', make: (m) => quantizeDynamicInt8(m) },
  { label: 'dynamic int8, input channels equalized', min: MIN_INT8_COSINE, make: (m) => quantizeDynamicInt8(m, { equalizeInputChannels: true }) },
  { label: 'float16', min: MIN_FLOAT16_COSINE, make: (m) => convertFloat16(m) },
];

describe('passes on real trained models', () => {
  const runner = new OrtRunner();
  after(() => runner.close());

  for (const [name, modelPath] of Object.entries(REAL_MODELS)) {
    it(`${name}: every pass output runs in ONNX Runtime, passes ONNX's checker and keeps its outputs`, async () => {
      const original = await OnnxModel.open(modelPath);
      const results = await Promise.all(VARIANTS.map((variant) => variant.make(original)));
      const feeds = await feedSets(runner, original);
      const [reference, ...outputs] = await runAll(runner, [original.encode(), ...results.map((r) => r.model.encode())], feeds);
      const expected = flatOutputs(reference);
      const lines = VARIANTS.map((variant, index) => {
        const { report } = results[index];
        const actual = flatOutputs(outputs[index]);
        const similarity = cosine(expected, actual);
        const maxError = expected.reduce((max, value, i) => Math.max(max, Math.abs(value - actual[i])), 0);
        assert.ok(report.tensors.length > 0, `${variant.label} changed nothing`);
        if (variant.min !== undefined) assert.ok(similarity >= variant.min, `${name}, ${variant.label}: cosine ${similarity}`);
        return `      ${variant.label}: ${report.tensors.length} tensors, ${original.bytes.byteLength} -> ${results[index].model.encode().byteLength} bytes, cosine ${similarity.toFixed(5)}, max |error| ${maxError.toExponential(1)}`;
      });
      console.log(`    ${name}\n${lines.join('\n')}`);
      if (defaultOpset(original.proto) <= 17) {
        assert.deepEqual(checkerFailures(results.map((r, index) => ({ label: VARIANTS[index].label, proto: r.model.proto }))), []);
      }
    });
  }

  it('silero v5: quantizes the Conv weights held in Constant nodes inside both If branches', async () => {
    const { report } = await quantizeDynamicInt8(await OnnxModel.open(REAL_MODELS.sileroV5));
    const scopes = new Set(report.tensors.map((t) => t.scope));
    assert.deepEqual([...scopes].sort(), ['main/If_0.else_branch', 'main/If_0.then_branch']);
    assert.equal(report.tensors.length, 12, 'six Conv weights in each branch');
  });
});
