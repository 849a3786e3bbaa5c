import { strict as assert } from 'node:assert';
import { analyzeModel, encodeModel, InvalidArgumentError, onnx, OnnxModel, PassNotApplicableError, quantizeInt4, quantizeInt8, convertFloat16, layerId } from '../../src/core';
import { dequantize, quantizeBlockwise } from '../../src/core/quant/quantize-math';
import { DataType, floatTensor, graph, model, node, randomFloats, valueInfo } from '../support/model-builder';
import { OrtRunner } from '../support/ort-runner';
import {
  attentionModel, checkerFailures, defaultOpset, floatFeed, Generated, minimum, mlpInIfModel, mlpModel, openGenerated, outputCosines, runAll,
} from '../support/pass-harness';

const MIN_INT8_COSINE = 0.99;
const MIN_FLOAT16_COSINE = 0.9999;
const CHECKER_MAX_OPSET = 17;

describe('passes: weight-only quantization', () => {
  const runner = new OrtRunner();
  after(() => runner.close());

  /** Runs original and changed models on the same feeds; returns the lowest output cosine. */
  async function fidelity(generated: Generated, changed: OnnxModel): Promise<number> {
    const [reference, candidate] = await runAll(runner, [encodeModel(generated.proto), changed.encode()], generated.feedSets);
    return minimum(outputCosines(reference, candidate));
  }

  function assertChecks(label: string, proto: onnx.ModelProto): void {
    if (defaultOpset(proto) <= CHECKER_MAX_OPSET) assert.deepEqual(checkerFailures([{ label, proto }]), []);
  }

  describe('int8', () => {
    for (const opset of [7, 9, 10, 12, 13, 17]) {
      for (const home of ['initializer', 'constant'] as const) {
        it(`quantizes an MLP at opset ${opset} with weights as ${home}s, runs and keeps cosine >= ${MIN_INT8_COSINE}`, async () => {
          const generated = mlpModel(home, opset);
          const original = openGenerated(generated);
          const before = original.encode();
          const { model: result, report } = await quantizeInt8(original);
          assert.deepEqual(report.tensors.map((t) => t.name).sort(), ['fc1.weight', 'fc2.weight', 'fc3.weight']);
          assert.ok(Buffer.from(original.encode()).equals(Buffer.from(before)), 'the input model changed');
          assert.equal(defaultOpset(result.proto), opset, 'the opset changed');
          const expected = opset >= 13 ? /per-channel .*DequantizeLinear/ : opset >= 10 ? /per-channel .*Cast then Mul/ : /Cast then Mul/;
          for (const change of report.tensors) assert.match(change.scheme, expected);
          const [beforeBytes, afterBytes] = [before.byteLength, result.encode().byteLength];
          assert.deepEqual(report.modelBytes, { before: beforeBytes, after: afterBytes });
          assert.ok(afterBytes < beforeBytes * 0.4, `model ${beforeBytes} -> ${afterBytes} bytes`);
          const predicted = report.weightBytes.before - report.weightBytes.after;
          assert.ok(Math.abs(beforeBytes - afterBytes - predicted) < 1000, `saved ${beforeBytes - afterBytes} bytes, weightBytes says ${predicted}`);
          assert.ok((await fidelity(generated, result)) >= MIN_INT8_COSINE);
          assertChecks(`int8 opset ${opset}`, result.proto);
        });
      }
    }

    it('quantizes per tensor on request, with DequantizeLinear from opset 10', async () => {
      const generated = mlpModel('initializer', 11);
      const { model: result, report } = await quantizeInt8(openGenerated(generated), { perTensor: true });
      for (const change of report.tensors) assert.match(change.scheme, /per-tensor, DequantizeLinear/);
      assert.equal(result.proto.graph!.node!.filter((n) => n.opType === 'DequantizeLinear').length, 3);
      assert.ok((await fidelity(generated, result)) >= MIN_INT8_COSINE);
      assertChecks('int8 per-tensor', result.proto);
    });

    it('works below opset 6 with legacy broadcasting and Cast-1 (checked by ONNX\'s checker)', async () => {
      const g = graph({
        nodes: [node('MatMul', ['x', 'w1'], ['h'], [], 'mm1'), node('MatMul', ['h', 'w2'], ['y'], [], 'mm2')],
        inputs: [valueInfo('x', DataType.FLOAT, [4, 32]), valueInfo('w1', DataType.FLOAT, [32, 16]), valueInfo('w2', DataType.FLOAT, [16, 8])],
        outputs: [valueInfo('y', DataType.FLOAT, [4, 8])],
        initializers: [floatTensor('w1', [32, 16], randomFloats(512, 1)), floatTensor('w2', [16, 8], randomFloats(128, 2))],
      });
      const original = model(g, { opset: 5, irVersion: 3 });
      assertChecks('original at opset 5', original);
      const { model: result, report } = await quantizeInt8(OnnxModel.fromBytes(encodeModel(original)));
      assert.equal(report.tensors.length, 2);
      const mul = result.proto.graph!.node!.find((n) => n.opType === 'Mul')!;
      assert.deepEqual(mul.attribute!.map((a) => a.name).sort(), ['axis', 'broadcast']);
      assert.equal(new TextDecoder().decode(result.proto.graph!.node!.find((n) => n.opType === 'Cast')!.attribute![0].s!), 'FLOAT', 'Cast-1 takes its type by name');
      const initializers = result.proto.graph!.initializer!.map((t) => t.name).sort();
      assert.deepEqual(initializers, ['w1_input_scale', 'w1_quantized', 'w1_scale', 'w2_input_scale', 'w2_quantized', 'w2_scale']);
      assert.deepEqual(result.proto.graph!.input!.map((i) => i.name).sort(), [...initializers, 'x'], 'IR 3 declares every initializer as an input');
      assertChecks('int8 opset 5', result.proto);
    });

    it('quantizes weights inside If branches, as initializers and as Constant nodes', async () => {
      const generated = mlpInIfModel();
      const { model: result, report } = await quantizeInt8(openGenerated(generated));
      assert.deepEqual(report.tensors.map((t) => t.scope).sort(), [...Array(3).fill('main/If_0.else_branch'), ...Array(3).fill('main/If_0.then_branch')]);
      assert.ok((await fidelity(generated, result)) >= MIN_INT8_COSINE);
      assertChecks('int8 in If', result.proto);
    });

    it('changes only the selected layer and shares every other tensor with the input', async () => {
      const original = openGenerated(mlpModel());
      const { model: result, report } = await quantizeInt8(original, { layers: ['fc2'] });
      assert.deepEqual(report.tensors.map((t) => t.name), ['fc2.weight']);
      assert.deepEqual(report.tensors[0].layers, ['main::fc2']);
      assert.deepEqual(report.tensors[0].layersAfter, ['main::fc2'], 'the layer reads the weight through DequantizeLinear');
      const rawOf = (m: OnnxModel, name: string) => m.proto.graph!.initializer!.find((t) => t.name === name)!.rawData;
      assert.equal(rawOf(result, 'fc1.weight'), rawOf(original, 'fc1.weight'), 'an unchanged weight was copied');
      assert.notEqual(result.proto.graph, original.proto.graph);
    });

    it('refuses a named layer it cannot change, with a one-sentence reason naming the node', async () => {
      const original = openGenerated(attentionModel());
      await assert.rejects(quantizeInt8(original, { layers: ['qh/Reshape'] }), (error: unknown) => {
        assert.ok(error instanceof PassNotApplicableError);
        assert.match(error.message, /^Reshape "qh\/Reshape" .*\.$/);
        return true;
      });
      await assert.rejects(quantizeInt8(original, { layers: ['no such layer'] }), InvalidArgumentError);
    });

    it('lists skipped float layers with their reasons when changing every layer', async () => {
      const { report } = await quantizeInt8(openGenerated(attentionModel()));
      const skipped = new Map(report.skipped.map((s) => [s.layer, s.reason]));
      assert.match(skipped.get('main::ln1')!, /LayerNormalization "ln1" has no float32 weight of 1024 values or more\./);
      assert.equal(report.tensors.length, 7, 'six projections and the embedding table');
    });
  });

  describe('float16', () => {
    it('stores weights and biases as float16 with a Cast back, in subgraphs too', async () => {
      for (const generated of [mlpModel('constant', 13), mlpInIfModel()]) {
        const { model: result, report } = await convertFloat16(openGenerated(generated));
        assert.ok(report.tensors.every((t) => t.after.dataType === 'float16' && t.bytesAfter * 2 === t.bytesBefore));
        assert.ok(report.tensors.some((t) => t.name.endsWith('bias')));
        assert.ok((await fidelity(generated, result)) >= MIN_FLOAT16_COSINE);
        assertChecks('float16', result.proto);
      }
    });

    it('keeps each weight on its layer, analyzed as float16, and refuses to quantize it again', async () => {
      const original = openGenerated(mlpModel());
      const { model: result } = await convertFloat16(original);
      const layerIds = (m: OnnxModel) => m.layers().map((layer) => layerId(layer.node)).sort();
      assert.deepEqual(layerIds(result), layerIds(original));
      const analysis = await analyzeModel(result, { workers: 1 });
      const fc1Weights = analysis.weights.filter((w) => w.name.startsWith('fc1.weight'));
      assert.deepEqual(fc1Weights.map((w) => [w.status, w.dataType]), [['analyzed', 'float16']]);
      await assert.rejects(quantizeInt8(result, { layers: ['main::fc1'] }), (error: unknown) => {
        assert.ok(error instanceof PassNotApplicableError);
        assert.match(error.message, /^Gemm "fc1" reads ".*", which is already stored as float16\.$/);
        return true;
      });
    });

    it('skips a weight beyond float16\'s range', async () => {
      const generated = mlpModel();
      const weight = generated.proto.graph!.initializer!.find((t) => t.name === 'fc2.weight')!;
      const values = randomFloats(128 * 64, 3);
      values[5] = 1e6;
      weight.rawData = new Uint8Array(values.buffer);
      const { report } = await convertFloat16(openGenerated(generated));
      assert.match(report.skipped.find((s) => s.layer === 'main::fc2')!.reason, /beyond float16's range/);
    });
  });

  describe('int4 (MatMulNBits)', () => {
    it('packs blocks exactly as MatMulNBits reads them, K not a multiple of the block', async () => {
      const [k, n] = [100, 24];
      const weights = randomFloats(k * n, 9);
      const g = graph({
        nodes: [node('MatMul', ['x', 'w'], ['y'], [], 'mm')], initializers: [floatTensor('w', [k, n], weights)],
        inputs: [valueInfo('x', DataType.FLOAT, [3, k])], outputs: [valueInfo('y', DataType.FLOAT, [3, n])],
      });
      const { model: result, report } = await quantizeInt4(OnnxModel.fromBytes(encodeModel(model(g, { opset: 17 }))));
      assert.deepEqual(report.opsetImportsAdded, [{ domain: 'com.microsoft', version: 1 }]);
      const x = floatFeed('x', [3, k], 4);
      const [[[output]]] = await runAll(runner, [result.encode()], [[x]]);
      const reference = dequantize(quantizeBlockwise(weights, [k, n], 0, 32), [k, n], { axis: 0, blockSize: 32 });
      const xs = x.data as Float32Array;
      for (let row = 0; row < 3; row++) {
        for (let col = 0; col < n; col++) {
          let sum = 0;
          for (let i = 0; i < k; i++) sum += xs[row * k + i] * reference[i * n + col];
          assert.ok(Math.abs((output.data as Float32Array)[row * n + col] - sum) < 1e-4, `y[${row},${col}]`);
        }
      }
      assertChecks('int4', result.proto);
    });

    it('turns every constant-weight MatMul of an attention block into MatMulNBits', async () => {
      const generated = attentionModel();
      const { model: result, report } = await quantizeInt4(openGenerated(generated));
      assert.equal(result.proto.graph!.node!.filter((n) => n.opType === 'MatMulNBits' && n.domain === 'com.microsoft').length, 6);
      assert.equal(report.tensors.length, 6);
      const cosine = await fidelity(generated, result);
      assert.ok(cosine >= 0.98, `cosine ${cosine}`);
      assertChecks('int4 attention', result.proto);
    });

    it('refuses a block size MatMulNBits does not accept', async () => {
      await assert.rejects(quantizeInt4(openGenerated(attentionModel()), { blockSize: 24 }), /power of two of at least 16/);
    });
  });

  it('names layers by scope and node label', () => {
    const layer = openGenerated(mlpInIfModel()).layers().find((l) => l.node.label === 'then_fc1')!;
    assert.equal(layerId(layer.node), 'main/If_0.then_branch::then_fc1');
  });
});


