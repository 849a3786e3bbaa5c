import { strict as assert } from 'node:assert';
import { encodeModel, onnx, OnnxModel, PassNotApplicableError, quantizeDynamicInt8 } from '../../src/core';
import { attr, DataType, floatTensor, graph, int64Tensor, model, node, randomFloats, valueInfo } from '../support/model-builder';
import { OrtRunner } from '../support/ort-runner';
import {
  attentionModel, checkerFailures, convModel, floatFeed, Generated, minimum, mlpInIfModel, mlpModel, openGenerated, ortOptimizedOpTypes, outputCosines, runAll,
} from '../support/pass-harness';

const MIN_COSINE = 0.99;
const T = onnx.TensorProto.DataType;

type Node = onnx.INodeProto;

/**
 * What ONNX Runtime's quantize_dynamic (1.30, defaults: per-tensor int8
 * weights, uint8 activations, MatMulConstBOnly) makes of a MatMul named N
 * reading activation X and constant weight W into Y.
 */
function expectOrtMatMulPattern(nodes: Node[], initializers: onnx.ITensorProto[], matmul: { name: string; x: string; w: string; y: string }): void {
  const byName = (name: string) => nodes.find((n) => n.name === name) ?? assert.fail(`no node named ${name}`);
  const { name, x, w, y } = matmul;
  const quantize = byName(`${x}_QuantizeLinear`);
  assert.equal(quantize.opType, 'DynamicQuantizeLinear');
  assert.deepEqual(quantize.input, [x]);
  assert.deepEqual(quantize.output, [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`]);
  const integer = byName(`${name}_quant`);
  assert.equal(integer.opType, 'MatMulInteger');
  assert.deepEqual(integer.input, [`${x}_quantized`, `${w}_quantized`, `${x}_zero_point`, `${w}_zero_point`]);
  assert.deepEqual(integer.output, [`${y}_output_quantized`]);
  const cast = byName(`${y}_output_quantized_cast`);
  assert.equal(cast.opType, 'Cast');
  assert.deepEqual(cast.input, [`${y}_output_quantized`]);
  assert.deepEqual(cast.output, [`${y}_output_quantized_cast_output`]);
  assert.equal(Number(cast.attribute!.find((a) => a.name === 'to')!.i), T.FLOAT);
  const scales = byName(`${name}_quant_scales_mul`);
  assert.equal(scales.opType, 'Mul');
  assert.deepEqual(scales.input, [`${x}_scale`, `${w}_scale`]);
  assert.deepEqual(scales.output, [`${name}_quant_scales_mul:0`]);
  const rescale = byName(`${name}_quant_output_scale_mul`);
  assert.equal(rescale.opType, 'Mul');
  assert.deepEqual(rescale.input, [`${y}_output_quantized_cast_output`, `${name}_quant_scales_mul:0`]);
  assert.deepEqual(rescale.output, [y]);
  const tensor = (tensorName: string) => initializers.find((t) => t.name === tensorName) ?? assert.fail(`no initializer ${tensorName}`);
  assert.equal(tensor(`${w}_quantized`).dataType, T.INT8);
  assert.equal(tensor(`${w}_scale`).dataType, T.FLOAT);
  assert.deepEqual(tensor(`${w}_scale`).dims, []);
  assert.equal(tensor(`${w}_zero_point`).dataType, T.INT8);
  assert.deepEqual(tensor(`${w}_zero_point`).dims, []);
  assert.ok(!initializers.some((t) => t.name === w), `the float weight ${w} is still there`);
  // Every input is produced before it is read.
  const position = (value: string) => nodes.findIndex((n) => n.output!.includes(value));
  for (const consumer of [integer, cast, scales, rescale]) {
    for (const input of consumer.input!) {
      const at = position(input);
      assert.ok(at < nodes.indexOf(consumer), `${input} is read by ${consumer.name} before it is produced`);
    }
  }
}

describe('passes: dynamic int8', () => {
  const runner = new OrtRunner();
  after(() => runner.close());

  async function fidelity(generated: Generated, changed: OnnxModel): Promise<number> {
    const [reference, candidate] = await runAll(runner, [encodeModel(generated.proto), changed.encode()], generated.feedSets);
    return minimum(outputCosines(reference, candidate));
  }

  it('gives a transformer block the node pattern of ONNX Runtime\'s quantize_dynamic', async () => {
    const { model: result, report } = await quantizeDynamicInt8(openGenerated(attentionModel()));
    const graph = result.proto.graph!;
    const nodes = graph.node!;
    const projections = [
      { name: 'query/MatMul', x: 'ln1', w: 'query.weight', y: 'q_mm' },
      { name: 'key/MatMul', x: 'ln1', w: 'key.weight', y: 'k_mm' },
      { name: 'value/MatMul', x: 'ln1', w: 'value.weight', y: 'v_mm' },
      { name: 'output/MatMul', x: 'context', w: 'output.weight', y: 'attn_mm' },
      { name: 'ffn1/MatMul', x: 'ln2', w: 'ffn1.weight', y: 'f1_mm' },
      { name: 'ffn2/MatMul', x: 'gelu', w: 'ffn2.weight', y: 'f2_mm' },
    ];
    for (const projection of projections) expectOrtMatMulPattern(nodes, graph.initializer!, projection);
    const count = (opType: string) => nodes.filter((n) => n.opType === opType).length;
    assert.equal(count('DynamicQuantizeLinear'), 4, 'one per quantized activation: Q, K and V share theirs');
    assert.equal(count('MatMulInteger'), 6);
    assert.equal(count('MatMul'), 2, 'activation-by-activation MatMuls stay float (MatMulConstBOnly)');
    // The embedding: Gather on the int8 table, then DequantizeLinear, as ORT's GatherQuant.
    const gather = nodes.find((n) => n.opType === 'Gather')!;
    assert.deepEqual(gather.input, ['embeddings.weight_quantized', 'input_ids']);
    assert.deepEqual(gather.output, ['emb_quantized']);
    const dequantize = nodes.find((n) => n.name === 'emb_DequantizeLinear')!;
    assert.deepEqual(dequantize.input, ['emb_quantized', 'embeddings.weight_scale', 'embeddings.weight_zero_point']);
    assert.deepEqual(dequantize.output, ['emb']);
    assert.equal(report.tensors.length, 7);
    assert.ok(report.tensors.every((t) => t.sqnrDb !== null && t.sqnrDb > 35), JSON.stringify(report.tensors.map((t) => t.sqnrDb)));
    assert.deepEqual(checkerFailures([{ label: 'dynamic attention', proto: result.proto }]), []);
  });

  it('is fused by ONNX Runtime: every MatMulInteger, Cast and Mul group becomes one integer-to-float kernel', async () => {
    const { model: result } = await quantizeDynamicInt8(openGenerated(attentionModel()));
    const optimized = ortOptimizedOpTypes(result.encode());
    const count = (opType: string) => optimized.filter((op) => op === opType).length;
    // A DynamicQuantizeLinear read by one layer fuses with it; Q, K and V share theirs, so keep it and fuse the rest.
    assert.equal(count('DynamicQuantizeMatMul'), 3, optimized.join(' '));
    assert.equal(count('MatMulIntegerToFloat'), 3, optimized.join(' '));
    assert.equal(count('DynamicQuantizeLinear'), 1);
    assert.equal(count('MatMulInteger') + count('Cast'), 0);
  });

  for (const [label, make] of [
    ['MLP (Gemm, MatMul)', () => mlpModel('initializer', 13)], ['MLP with Constant-node weights', () => mlpModel('constant', 13)],
    ['Conv network', () => convModel('initializer', 13)], ['Conv network with Constant-node weights', () => convModel('constant', 13)],
    ['attention block', () => attentionModel('initializer')], ['attention block with Constant-node weights', () => attentionModel('constant')],
    ['MLP inside If branches', () => mlpInIfModel(13)],
  ] as const) {
    it(`keeps cosine >= ${MIN_COSINE} on a generated ${label}, and the checker accepts it`, async () => {
      const generated = make();
      const { model: result, report } = await quantizeDynamicInt8(openGenerated(generated));
      assert.ok(report.tensors.length >= 3, `${report.tensors.length} tensors`);
      assert.ok(report.weightBytes.after < report.weightBytes.before * 0.27);
      const cosine = await fidelity(generated, result);
      assert.ok(cosine >= MIN_COSINE, `cosine ${cosine}`);
      assert.deepEqual(checkerFailures([{ label, proto: result.proto }]), []);
    });
  }

  it('fails the fidelity bar when a scale is wrong (the check has teeth)', async () => {
    const generated = mlpModel();
    const { model: result } = await quantizeDynamicInt8(openGenerated(generated));
    const proto = onnx.ModelProto.decode(result.encode());
    const scale = proto.graph!.initializer!.find((t) => t.name === 'fc2.weight_scale')!;
    scale.rawData = new Uint8Array(Float32Array.of(new Float32Array(Uint8Array.from(scale.rawData!).buffer)[0] * 1.5).buffer);
    const cosine = await fidelity(generated, OnnxModel.fromBytes(encodeModel(proto)));
    assert.ok(cosine < MIN_COSINE, `cosine ${cosine} with a wrong scale`);
  });

  it('turns Gemm into MatMul and Add, transposing B for transB', async () => {
    const { model: result, report } = await quantizeDynamicInt8(openGenerated(mlpModel()), { layers: ['fc1'] });
    const nodes = result.proto.graph!.node!;
    assert.deepEqual(nodes.find((n) => n.name === 'fc1_Add')!.input, ['h1_MatMul', 'fc1.bias']);
    expectOrtMatMulPattern(nodes, result.proto.graph!.initializer!, { name: 'fc1_MatMul', x: 'x', w: 'fc1.weight', y: 'h1_MatMul' });
    assert.deepEqual(report.tensors[0].after.dims, [64, 128], 'B [128, 64] with transB is stored as [64, 128]');
  });

  it('turns Conv into ConvInteger with the bias reshaped and added, as ORT', async () => {
    const { model: result, report } = await quantizeDynamicInt8(openGenerated(convModel()), { layers: ['conv1'] });
    const nodes = result.proto.graph!.node!;
    const conv = nodes.find((n) => n.opType === 'ConvInteger')!;
    assert.equal(conv.name, 'conv1_quant');
    assert.deepEqual(report.tensors.map((t) => [t.layers, t.layersAfter]), [[['main::conv1'], ['main::conv1_quant']]], 'the change moves to the ConvInteger layer');
    assert.deepEqual(conv.attribute!.map((a) => a.name), ['kernel_shape', 'pads']);
    assert.deepEqual(nodes.find((n) => n.name === 'c1_bias_add')!.input, ['c1quant_scaled_output', 'c1_bias_reshape_output']);
    assert.deepEqual(nodes.find((n) => n.opType === 'Reshape')!.input, ['conv1.bias', 'c1_bias_reshape_shape']);
  });

  it('quantizes per channel on request, and still runs', async () => {
    for (const [generated, scale, dims] of [[convModel(), 'conv1.weight_scale', [16, 1, 1]], [attentionModel(), 'query.weight_scale', [64]]] as const) {
      const { model: result } = await quantizeDynamicInt8(openGenerated(generated), { perChannel: true });
      assert.deepEqual(result.proto.graph!.initializer!.find((t) => t.name === scale)!.dims!.map(Number), dims);
      assert.ok((await fidelity(generated, result)) >= MIN_COSINE);
      assert.deepEqual(checkerFailures([{ label: scale, proto: result.proto }]), []);
    }
  });

  it('quantizes a weight inside a Loop body, which ORT\'s quantize_dynamic leaves alone', async () => {
    const body = graph({
      name: 'body',
      nodes: [node('MatMul', ['state_in', 'loop_w'], ['product'], [], 'loop_mm'), node('Tanh', ['product'], ['state_out']), node('Identity', ['cond_in'], ['cond_out'])],
      inputs: [valueInfo('i', DataType.INT64, []), valueInfo('cond_in', DataType.BOOL, []), valueInfo('state_in', DataType.FLOAT, [2, 32])],
      outputs: [valueInfo('cond_out', DataType.BOOL, []), valueInfo('state_out', DataType.FLOAT, [2, 32])],
      initializers: [floatTensor('loop_w', [32, 32], randomFloats(1024, 8, 0.3))],
    });
    const main = graph({
      nodes: [node('Loop', ['trips', '', 'x'], ['y'], [attr.graph('body', body)], 'loop')],
      inputs: [valueInfo('x', DataType.FLOAT, [2, 32])], outputs: [valueInfo('y', DataType.FLOAT, [2, 32])],
      initializers: [int64Tensor('trips', [], [3])],
    });
    const generated: Generated = { proto: model(main, { opset: 13 }), feedSets: [[floatFeed('x', [2, 32], 1)], [floatFeed('x', [2, 32], 2)]] };
    const { model: result, report } = await quantizeDynamicInt8(openGenerated(generated));
    assert.deepEqual(report.tensors.map((t) => `${t.scope}::${t.name}`), ['main/loop.body::loop_w']);
    assert.ok((await fidelity(generated, result)) >= MIN_COSINE);
    assert.deepEqual(checkerFailures([{ label: 'loop', proto: result.proto }]), []);
  });

  it('skips a weight holding NaN, naming it, and quantizes the rest', async () => {
    const generated = mlpModel();
    const weight = generated.proto.graph!.initializer!.find((t) => t.name === 'fc2.weight')!;
    const values = randomFloats(128 * 64, 3);
    values[10] = NaN;
    weight.rawData = new Uint8Array(values.buffer);
    const { model: result, report } = await quantizeDynamicInt8(openGenerated(generated));
    assert.match(report.skipped.find((s) => s.layer === 'main::fc2')!.reason, /^Weight "fc2.weight" holds infinite or NaN values, which int8 cannot represent\.$/);
    assert.deepEqual(report.tensors.map((t) => t.name).sort(), ['fc1.weight', 'fc3.weight']);
    assert.ok(result.proto.graph!.node!.some((n) => n.opType === 'MatMul' && n.name === 'fc2'));
  });

  it('refuses models below opset 11 instead of changing their opset', async () => {
    const original = openGenerated(mlpModel('initializer', 10));
    const { report } = await quantizeDynamicInt8(original);
    assert.equal(report.tensors.length, 0);
    assert.match(report.skipped[0].reason, /at opset 10; dynamic int8 needs DynamicQuantizeLinear \(opset 11\)/);
    await assert.rejects(quantizeDynamicInt8(original, { layers: ['fc2'] }), PassNotApplicableError);
  });
});
