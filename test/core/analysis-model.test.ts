import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  AnalysisCancelledError, AnalysisProgress, analysisAxesOf, analyzeModel, analyzeValues, InvalidArgumentError, ModelAnalysis, onnx,
  OnnxModel, openModelShared, WeightAnalysis,
} from '../../src/core';
import { toLong } from '../../src/core/onnx/int64';
import { attr, constantNode, DataType, encode, floatTensor, graph, int64Tensor, model, node, randomFloats, rawTensor, valueInfo } from '../support/model-builder';

type Analyzed = Extract<WeightAnalysis, { status: 'analyzed' }>;

const bytesOf = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
const open = (m: onnx.IModelProto) => OnnxModel.fromBytes(encode(m));

function analyzedNamed(result: ModelAnalysis, name: string): Analyzed {
  const found = result.weights.find((weight) => weight.name === name);
  assert.equal(found?.status, 'analyzed', `${name}: ${JSON.stringify(found && 'reason' in found ? found.reason : found)}`);
  return found as Analyzed;
}

function assertClose(actual: number, expected: number, label: string, relative = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.max(1, Math.abs(expected)), `${label}: ${actual} vs ${expected}`);
}

/** Mean, std and exact zeros of real values, computed plainly. */
function plainStats(values: ArrayLike<number>) {
  const list = Array.from(values);
  const mean = list.reduce((a, v) => a + v, 0) / list.length;
  return { mean, std: Math.sqrt(list.reduce((a, v) => a + (v - mean) ** 2, 0) / list.length), zeros: list.filter((v) => v === 0).length };
}

function assertStatsOf(weight: Analyzed, values: ArrayLike<number>): void {
  const expected = plainStats(values);
  assert.equal(weight.stats.count, values.length);
  assertClose(weight.stats.mean, expected.mean, `${weight.name} mean`);
  assertClose(weight.stats.std, expected.std, `${weight.name} std`);
  assert.equal(weight.stats.zeros, expected.zeros, `${weight.name} zeros`);
}

function float16Bits(values: number[]): Uint16Array {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  // Exactly representable inputs only: sign, rebiased exponent, top 10 mantissa bits.
  return Uint16Array.from(values, (v) => {
    f32[0] = v;
    const bits = u32[0];
    return v === 0 ? 0 : ((bits >>> 16) & 0x8000) | ((((bits >>> 23) & 0xff) - 112) << 10) | ((bits >>> 13) & 0x3ff);
  });
}

/** Two int4 per byte, low nibble first. */
function packInt4(values: number[]): Uint8Array {
  const packed = new Uint8Array(Math.ceil(values.length / 2));
  values.forEach((v, i) => (packed[i >> 1] |= (v & 0xf) << ((i & 1) * 4)));
  return packed;
}

describe('weight analysis of whole models, in worker threads', () => {
  describe('every kind of weight', () => {
    const w = randomFloats(6 * 4, 1, 0.5);
    const gemmB = randomFloats(3 * 6, 2, 0.5);
    const inBranch = randomFloats(8, 3, 2);
    const half = [0.5, -0.25, 1.5, 0, 3, -2];
    const doubles = Float64Array.from(randomFloats(5, 4), (v) => v + 1e-10);
    const int8 = Int8Array.from([5, -3, 7, -1, 2, 9, -8, 4]);
    const int8Scale = Float32Array.of(0.5, 0.25);
    const int8ZeroPoint = Int8Array.of(2, -1);
    const int4 = Array.from({ length: 2 * 40 }, (_, i) => ((i * 7) % 16) - 8);
    const int4Scale = Float32Array.from({ length: 2 * 2 }, (_, i) => 0.1 * (i + 1));
    const int4ZeroPoint = [1, -2, 0, 3];
    const m = model(graph({
      nodes: [
        node('MatMul', ['x', 'W'], ['h1'], [], 'mm'),
        node('Gemm', ['h1', 'B', 'half'], ['h2'], [attr.int('transB', 1)], 'gemm'),
        node('DequantizeLinear', ['Q8', 'Q8_scale', 'Q8_zp'], ['Q8_real'], [attr.int('axis', 1)], 'dq8'),
        node('MatMul', ['h2', 'Q8_real'], ['h3'], [], 'mm8'),
        node('DequantizeLinear', ['Q4', 'Q4_scale', 'Q4_zp'], ['Q4_real'], [attr.int('axis', 1), attr.int('block_size', 32)], 'dq4'),
        node('Gather', ['Q4_real', 'ids'], ['emb'], [], 'embed'),
        node('Mul', ['h3', 'D'], ['h4'], [], 'mul'),
        node('Add', ['h4', 'S'], ['h5'], [], 'add'),
        node('Reshape', ['h5', 'shape'], ['h6'], [], 'reshape'),
        node('Mul', ['h6', 'bad'], ['h7'], [], 'bad_mul'),
        node('If', ['cond'], ['y'], [
          attr.graph('then_branch', graph({ nodes: [constantNode('inner', attr.tensor('value', floatTensor('', [2, 4], Array.from(inBranch)))),
            node('Mul', ['h7', 'inner'], ['t'], [], 'then_mul')], outputs: [valueInfo('t', DataType.FLOAT, [])] })),
          attr.graph('else_branch', graph({ nodes: [node('Identity', ['h7'], ['e'], [], 'else_id')], outputs: [valueInfo('e', DataType.FLOAT, [])] })),
        ], 'branch'),
      ],
      initializers: [
        floatTensor('W', [6, 4], Array.from(w)), floatTensor('B', [3, 6], Array.from(gemmB)),
        rawTensor('half', DataType.FLOAT16, [6], bytesOf(float16Bits(half))),
        rawTensor('D', DataType.DOUBLE, [5], bytesOf(doubles)),
        rawTensor('Q8', DataType.INT8, [4, 2], bytesOf(int8)), floatTensor('Q8_scale', [2], Array.from(int8Scale)),
        rawTensor('Q8_zp', DataType.INT8, [2], bytesOf(int8ZeroPoint)),
        rawTensor('Q4', DataType.INT4, [2, 40], packInt4(int4)), floatTensor('Q4_scale', [2, 2], Array.from(int4Scale)),
        rawTensor('Q4_zp', DataType.INT4, [2, 2], packInt4(int4ZeroPoint)),
        int64Tensor('shape', [1], [-1]),
        floatTensor('bad', [3], [1, NaN, Infinity]),
      ],
      sparseInitializers: [{ values: floatTensor('S', [3], [1, -2, 4]), indices: int64Tensor('S_idx', [3], [0, 5, 9]), dims: [toLong(2), toLong(5)] }],
    }));
    let result: ModelAnalysis;
    before(async () => { result = await analyzeModel(open(m), { workers: 2 }); });

    it('reports one entry per weight, in the model\'s order', () => {
      assert.deepEqual(result.weights.map((weight) => weight.id), open(m).weights().map((weight) => weight.id));
    });

    it('analyzes float weights wherever they live, with the consuming op\'s channel axis', () => {
      assertStatsOf(analyzedNamed(result, 'W'), w);
      assert.equal(analyzedNamed(result, 'W').channels!.axis, 1, 'MatMul B [K, N]: channels on N');
      assertStatsOf(analyzedNamed(result, 'B'), gemmB);
      assert.equal(analyzedNamed(result, 'B').channels!.axis, 0, 'Gemm transB: B is [N, K]');
      const inner = analyzedNamed(result, 'inner');
      assert.equal(inner.scope, 'main/branch.then_branch');
      assert.equal(inner.origin, 'constant');
      assertStatsOf(inner, inBranch);
    });

    it('decodes float16 and keeps float64 in double precision', () => {
      const h = analyzedNamed(result, 'half');
      assertStatsOf(h, half);
      assert.equal(h.quantization.float16.outcome, 'lossless');
      assertStatsOf(analyzedNamed(result, 'D'), doubles);
      assert.equal(analyzedNamed(result, 'D').dataPasses, 4, 'the copy handed to the worker, float32 rounding, two analysis passes');
    });

    it('analyzes quantized weights in real values, zeros counted against the zero point', () => {
      const q8 = analyzedNamed(result, 'Q8');
      const real8 = Array.from(int8, (q, i) => Math.fround((q - int8ZeroPoint[i % 2]) * int8Scale[i % 2]));
      assertStatsOf(q8, real8);
      assert.equal(q8.stats.zeros, 2, 'the two elements equal to their zero point');
      assert.deepEqual(q8.realValues, { dequantizedBy: 'dq8', scale: 'main::Q8_scale', zeroPoint: 'main::Q8_zp', axis: 1, blockSize: 0 });
      const q4 = analyzedNamed(result, 'Q4');
      const real4 = int4.map((q, i) => {
        const group = Math.floor(i / 40) * 2 + Math.floor((i % 40) / 32);
        return Math.fround((q - int4ZeroPoint[group]) * int4Scale[group]);
      });
      assertStatsOf(q4, real4);
      assert.equal(q4.channels!.axis, 0, 'an embedding table has one channel per row');
    });

    it('makes sparse weights dense', () => {
      const s = analyzedNamed(result, 'S');
      assertStatsOf(s, [1, 0, 0, 0, 0, -2, 0, 0, 0, 4]);
      assert.equal(s.stats.zeros, 7);
    });

    it('skips what is not a weight, fails what cannot be summarized, and says why', () => {
      const reasons = new Map(result.weights.filter((weight) => weight.status !== 'analyzed').map((weight) => [weight.name, weight]));
      assert.deepEqual([...reasons.keys()].sort(), ['Q4_scale', 'Q4_zp', 'Q8_scale', 'Q8_zp', 'bad', 'shape']);
      assert.deepEqual([...reasons.values()].filter((weight) => weight.status === 'skipped').map((weight) => weight.name).sort(),
        ['Q4_scale', 'Q4_zp', 'Q8_scale', 'Q8_zp', 'shape']);
      assert.equal((reasons.get('shape') as { reason: string }).reason,
        'Tensor "shape" holds int64 values with no DequantizeLinear: shapes, indices or flags, not weights.');
      assert.equal((reasons.get('Q8_scale') as { reason: string }).reason,
        'Tensor "Q8_scale" is the scale or zero point of a quantized weight, analyzed with that weight.');
      assert.equal(reasons.get('bad')!.status, 'failed');
      assert.equal((reasons.get('bad') as { reason: string }).reason, 'Tensor "bad" holds 2 NaN or infinite values, which no statistic can summarize.');
    });

    it('counts the analyzed weights and their elements', () => {
      const analyzed = result.weights.filter((weight) => weight.status === 'analyzed');
      assert.equal(result.analyzedWeights, analyzed.length);
      assert.equal(result.analyzedElements, analyzed.reduce((a, weight) => a + weight.elementCount, 0));
    });

    it('lists every layer with its weights', () => {
      assert.deepEqual(result.layers.find((layer) => layer.node === 'mm8'), {
        node: 'mm8', scope: 'main', opType: 'MatMul', weights: [{ id: 'main::Q8', inputIndex: 1, viaDequantize: true }],
      });
    });

    it('gives the same figures as analyzing each tensor in this thread, whatever the number of workers', async () => {
      const oneWorker = await analyzeModel(open(m), { workers: 1 });
      assert.deepEqual(oneWorker, result);
      const local = open(m).weights().find((weight) => weight.name === 'W')!;
      const inThread = analyzeValues(await local.tensor.floats(), local.dims, analysisAxesOf(local));
      const inWorker = analyzedNamed(result, 'W');
      for (const key of ['stats', 'histogram', 'logHistogram', 'channels', 'pruning', 'quantization'] as const) {
        assert.deepEqual(inWorker[key], inThread[key], key);
      }
      assert.equal(inWorker.dataPasses, inThread.dataPasses + 1, 'bytes not in shared memory are copied to reach the worker');
    });

    it('is plain JSON', () => assert.deepEqual(JSON.parse(JSON.stringify(result)), result));
  });

  describe('external data', () => {
    let folder: string;
    beforeEach(() => { folder = mkdtempSync(path.join(tmpdir(), 'onnx-lens-analysis-')); });
    afterEach(() => rmSync(folder, { recursive: true, force: true }));

    const values = randomFloats(12, 9, 1);
    const writeModel = () => {
      const external = onnx.TensorProto.create({
        name: 'W', dataType: DataType.FLOAT, dims: [toLong(3), toLong(4)], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '3' }],
      });
      const modelPath = path.join(folder, 'model.onnx');
      writeFileSync(modelPath, encode(model(graph({ nodes: [node('MatMul', ['x', 'W'], ['y'], [], 'mm')], initializers: [external] }))));
      return modelPath;
    };

    it('reads weights from external files, at unaligned offsets too', async () => {
      const modelPath = writeModel();
      writeFileSync(path.join(folder, 'weights.bin'), Buffer.concat([Buffer.alloc(3), Buffer.from(values.buffer)]));
      for (const opened of [await openModelShared(modelPath), await OnnxModel.open(modelPath)]) {
        assertStatsOf(analyzedNamed(await analyzeModel(opened), 'W'), values);
      }
    });

    it('reports a missing external file as a failed weight, naming it, and goes on', async () => {
      const result = await analyzeModel(await openModelShared(writeModel()));
      const [w] = result.weights;
      assert.equal(w.status, 'failed');
      assert.match((w as { reason: string }).reason, /^Tensor "W" has its data in "weights\.bin", but that file does not exist\.$/);
    });
  });

  describe('streaming and cancellation', () => {
    const LAYERS = 12;
    const big = open(model(graph({
      nodes: Array.from({ length: LAYERS }, (_, i) => node('MatMul', [i ? `h${i}` : 'x', `W${i}`], [`h${i + 1}`], [], `mm${i}`)),
      initializers: Array.from({ length: LAYERS }, (_, i) => floatTensor(`W${i}`, [512, 512], randomFloats(512 * 512, i + 1, 0.1))),
    })));

    it('reports every weight once, each completed layer once, and progress up to the total', async () => {
      const events: AnalysisProgress[] = [];
      const result = await analyzeModel(big, { onProgress: (progress) => events.push(progress) });
      assert.equal(events.length, LAYERS);
      assert.deepEqual(events.map((event) => event.weightsDone), Array.from({ length: LAYERS }, (_, i) => i + 1));
      assert.deepEqual(events.flatMap((event) => event.completedLayers.map((layer) => layer.node)).sort(), result.layers.map((layer) => layer.node).sort());
      for (let i = 1; i < events.length; i++) assert.ok(events[i].elementsDone > events[i - 1].elementsDone);
      assert.equal(events[LAYERS - 1].elementsDone, events[LAYERS - 1].elementsTotal);
      assert.equal(events[0].elementsTotal, LAYERS * 512 * 512);
    });

    it('stops at once when cancelled, with a typed error', async () => {
      const controller = new AbortController();
      let seen = 0;
      const started = Date.now();
      await assert.rejects(
        analyzeModel(big, { workers: 1, signal: controller.signal, onProgress: () => { seen++; controller.abort(); } }),
        (error: unknown) => error instanceof AnalysisCancelledError && /^The analysis was cancelled after 1 of 12 weights\.$/.test(error.message));
      assert.equal(seen, 1);
      assert.ok(Date.now() - started < 10000);
    });

    it('refuses to start when already cancelled, or with no worker', async () => {
      await assert.rejects(analyzeModel(big, { signal: AbortSignal.abort() }), AnalysisCancelledError);
      await assert.rejects(analyzeModel(big, { workers: 0 }), InvalidArgumentError);
    });
  });
});
