import { strict as assert } from 'node:assert';
import { OnnxModel, WeightInfo } from '../../src/core';
import { toLong } from '../../src/core/onnx/int64';
import {
  attr, constantNode, DataType, encode, floatTensor, graph, int64Tensor, model, node, rawTensor, valueInfo,
} from '../support/model-builder';

const open = (m: Parameters<typeof encode>[0]) => OnnxModel.fromBytes(encode(m));
const byName = (weights: WeightInfo[], name: string) => {
  const found = weights.filter((weight) => weight.name === name);
  assert.equal(found.length, 1, `expected one weight named ${name}, found ${found.length}`);
  return found[0];
};
const usesOf = (weight: WeightInfo) => weight.uses.map((use) => `${use.node.scope}/${use.node.label}[${use.inputIndex}]`);

describe('weight discovery', () => {
  it('finds initializers and the slots that consume them', () => {
    const m = open(model(graph({
      nodes: [node('Gemm', ['x', 'W', 'b'], ['y'], [attr.int('transB', 1)], 'fc1'), node('Add', ['y', 'b'], ['z'], [], 'add')],
      inputs: [valueInfo('x', DataType.FLOAT, ['N', 4])], outputs: [valueInfo('z', DataType.FLOAT, ['N', 3])],
      initializers: [floatTensor('W', [3, 4], new Array(12).fill(0.5)), floatTensor('b', [3], [1, 2, 3])],
    })));
    const weights = m.weights();
    assert.deepEqual(weights.map((w) => [w.name, w.origin, w.elementCount]), [['W', 'initializer', 12], ['b', 'initializer', 3]]);
    assert.deepEqual(usesOf(byName(weights, 'b')), ['main/fc1[2]', 'main/add[1]']);
    const layers = m.layers();
    assert.deepEqual(layers.map((layer) => [layer.node.label, layer.weights.map((e) => `${e.weight.name}@${e.inputIndex}`)]),
      [['fc1', ['W@1', 'b@2']], ['add', ['b@1']]]);
  });

  it('finds every form of Constant node value', async () => {
    const sparse = { values: floatTensor('sv', [2], [7, 8]), indices: int64Tensor('si', [2], [1, 3]), dims: [toLong(4)] };
    const m = open(model(graph({
      nodes: [
        constantNode('c_tensor', attr.tensor('value', floatTensor('', [2, 2], [1, 2, 3, 4]))),
        constantNode('c_float', attr.float('value_float', 2.5)),
        constantNode('c_floats', attr.floats('value_floats', [1, 2, 3])),
        constantNode('c_int', attr.int('value_int', 7)),
        constantNode('c_ints', attr.ints('value_ints', [4, 5])),
        constantNode('c_sparse', attr.sparseTensor('sparse_value', sparse)),
        node('Sum', ['c_tensor', 'c_float', 'c_floats'], ['s'], [], 'sum'),
      ],
      outputs: [valueInfo('s', DataType.FLOAT, [2, 2])],
    })));
    const weights = m.weights();
    assert.deepEqual(weights.map((w) => [w.name, w.origin, w.tensor.dataType.name, w.dims]), [
      ['c_tensor', 'constant', 'float32', [2, 2]], ['c_float', 'constant', 'float32', []], ['c_floats', 'constant', 'float32', [3]],
      ['c_int', 'constant', 'int64', []], ['c_ints', 'constant', 'int64', [2]], ['c_sparse', 'constant', 'float32', [4]],
    ]);
    assert.deepEqual(Array.from(await byName(weights, 'c_floats').tensor.floats()), [1, 2, 3]);
    assert.deepEqual(Array.from(await byName(weights, 'c_float').tensor.floats()), [2.5]);
    assert.equal(byName(weights, 'c_tensor').producer?.label, 'c_tensor_node');
    assert.deepEqual(usesOf(byName(weights, 'c_floats')), ['main/sum[2]']);
    assert.equal(byName(weights, 'c_sparse').sparse?.indices.elementCount, 2);
  });

  it('finds weights in subgraphs nested to any depth and resolves names through scopes', () => {
    const innermost = graph({
      name: 'inner',
      nodes: [
        constantNode('deep_w', attr.tensor('value', floatTensor('', [2], [1, 2]))),
        node('Mul', ['outer_w', 'deep_w'], ['deep_out'], [], 'deep_mul'),
        node('Add', ['shadowed', 'deep_w'], ['deep_out2'], [], 'deep_add'),
      ],
      inputs: [valueInfo('shadowed', DataType.FLOAT, [2])],
      outputs: [valueInfo('deep_out', DataType.FLOAT, [2])],
    });
    const loopBody = graph({
      name: 'body', nodes: [node('If', ['cond'], ['if_out'], [attr.graph('then_branch', innermost), attr.graph('else_branch', innermost)], 'inner_if')],
      initializers: [floatTensor('body_w', [3], [1, 2, 3])],
      inputs: [valueInfo('i', DataType.INT64, []), valueInfo('cond', DataType.BOOL, [])], outputs: [valueInfo('if_out', DataType.FLOAT, [2])],
    });
    const m = open(model(graph({
      nodes: [node('Loop', ['', 'c'], ['loop_out'], [attr.graph('body', loopBody)], 'outer_loop')],
      initializers: [floatTensor('outer_w', [2], [3, 4]), floatTensor('shadowed', [2], [0, 0])],
      inputs: [valueInfo('c', DataType.BOOL, [])], outputs: [valueInfo('loop_out', DataType.FLOAT, [2])],
    })));
    const weights = m.weights();
    assert.equal(weights.filter((w) => w.name === 'deep_w').length, 2, 'one per branch');
    assert.deepEqual(weights.map((w) => w.scope), [
      'main', 'main', 'main/outer_loop.body', 'main/outer_loop.body/inner_if.then_branch', 'main/outer_loop.body/inner_if.else_branch',
    ]);
    assert.deepEqual(usesOf(byName(weights, 'outer_w')), [
      'main/outer_loop.body/inner_if.then_branch/deep_mul[0]', 'main/outer_loop.body/inner_if.else_branch/deep_mul[0]',
    ]);
    assert.deepEqual(usesOf(byName(weights, 'shadowed')), [], 'the subgraph input of the same name hides the outer initializer');
  });

  it('finds Constant weights inside model-local functions', () => {
    const fn = {
      name: 'ScaledAdd', domain: 'local', input: ['x'], output: ['y'],
      node: [constantNode('k', attr.tensor('value', floatTensor('', [1], [2]))), node('Mul', ['x', 'k'], ['y'], [], 'scale')],
      opsetImport: [{ domain: '', version: toLong(17) }],
    };
    const m = open(model(graph({
      nodes: [node('ScaledAdd', ['x'], ['y'], [], 'call', 'local')],
      inputs: [valueInfo('x', DataType.FLOAT, [1])], outputs: [valueInfo('y', DataType.FLOAT, [1])],
    }), { functions: [fn], extraOpsets: [{ domain: 'local', version: 1 }] }));
    const [k] = m.weights();
    assert.equal(k.scope, 'function local:ScaledAdd');
    assert.deepEqual(usesOf(k), ['function local:ScaledAdd/scale[1]']);
    assert.equal(m.overview().functionCount, 1);
  });

  it('finds sparse initializers with their dense shape', () => {
    const m = open(model(graph({
      nodes: [node('MatMul', ['x', 'S'], ['y'], [], 'mm')],
      sparseInitializers: [{ values: floatTensor('S', [3], [1, 2, 3]), indices: int64Tensor('S_idx', [3], [0, 5, 10]), dims: [toLong(4), toLong(4)] }],
    })));
    const [s] = m.weights();
    assert.deepEqual([s.origin, s.dims, s.elementCount, s.tensor.elementCount], ['sparse-initializer', [4, 4], 16, 3]);
    assert.deepEqual(usesOf(s), ['main/mm[1]']);
  });

  it('follows already-quantized weights through DequantizeLinear to the layer that uses them', () => {
    const m = open(model(graph({
      nodes: [
        node('DequantizeLinear', ['Wq', 'W_scale', 'W_zp'], ['W_deq'], [attr.int('axis', 0)], 'dq'),
        node('MatMul', ['x', 'W_deq'], ['y'], [], 'mm'),
      ],
      initializers: [
        rawTensor('Wq', DataType.INT8, [2, 2], new Uint8Array(Int8Array.from([1, -2, 3, -4]).buffer)),
        floatTensor('W_scale', [2], [0.1, 0.2]), rawTensor('W_zp', DataType.INT8, [2], new Uint8Array(2)),
      ],
    })));
    const wq = byName(m.weights(), 'Wq');
    assert.equal(wq.dequantization?.scale?.name, 'W_scale');
    assert.equal(wq.dequantization?.zeroPoint?.name, 'W_zp');
    assert.equal(wq.dequantization?.axis, 0);
    assert.deepEqual(wq.dequantization?.uses.map((use) => `${use.node.label}[${use.inputIndex}]`), ['mm[1]']);
    assert.deepEqual(m.layers().map((layer) => [layer.node.label, layer.weights.map((e) => [e.weight.name, e.viaDequantize])]), [['mm', [['Wq', true]]]]);
  });

  it('follows a float16 weight through its Cast to float to the layer that uses it', () => {
    const m = open(model(graph({
      nodes: [
        node('Cast', ['W_fp16'], ['W'], [attr.int('to', DataType.FLOAT)], 'cast'),
        node('MatMul', ['x', 'W'], ['y'], [], 'mm'),
        node('Cast', ['shape'], ['shape_float'], [attr.int('to', DataType.FLOAT)], 'cast_shape'),
      ],
      initializers: [rawTensor('W_fp16', DataType.FLOAT16, [2, 2], new Uint8Array(8)), int64Tensor('shape', [2], [1, 2])],
    })));
    const w = byName(m.weights(), 'W_fp16');
    assert.equal(w.dequantization?.kind, 'cast');
    assert.deepEqual(w.dequantization?.uses.map((use) => `${use.node.label}[${use.inputIndex}]`), ['mm[1]']);
    assert.equal(byName(m.weights(), 'shape').dequantization, undefined, 'a Cast of integers is no float conversion');
    assert.deepEqual(m.layers().map((layer) => [layer.node.label, layer.weights.map((e) => [e.weight.name, e.viaDequantize])]),
      [['mm', [['W_fp16', true]]], ['cast_shape', [['shape', false]]]]);
  });

  it('follows a dequantized weight through a Mul by a constant (input-channel equalization)', () => {
    const m = open(model(graph({
      nodes: [
        node('DequantizeLinear', ['Wq', 'W_scale'], ['W_eq'], [attr.int('axis', 1)], 'dq'),
        node('Mul', ['W_eq', 'W_input_scale'], ['W'], [], 'equalize'),
        node('MatMul', ['x', 'W'], ['y'], [], 'mm'),
      ],
      initializers: [
        rawTensor('Wq', DataType.INT8, [2, 2], new Uint8Array(Int8Array.from([1, -2, 3, -4]).buffer)),
        floatTensor('W_scale', [2], [0.1, 0.2]), floatTensor('W_input_scale', [2, 1], [1, 2]),
      ],
    })));
    const wq = byName(m.weights(), 'Wq');
    assert.deepEqual(wq.dequantization?.rescaledBy.map((ref) => ref.label), ['equalize']);
    assert.deepEqual(m.layers().map((layer) => [layer.node.label, layer.weights.map((e) => [e.weight.name, e.viaDequantize])]), [['mm', [['Wq', true]]]]);
  });

  it('summarizes the model for the overview', () => {
    const m = open(model(graph({
      nodes: [node('MatMul', ['x', 'W'], ['h'], [], 'mm'), node('Relu', ['h'], ['y'], [], 'act'), node('Custom', [], [], [], 'c', 'com.example')],
      inputs: [valueInfo('x', DataType.FLOAT, ['batch', 4]), valueInfo('W', DataType.FLOAT, [4, 2])],
      outputs: [valueInfo('y', DataType.FLOAT, ['batch', 2])],
      initializers: [floatTensor('W', [4, 2], new Array(8).fill(1)), rawTensor('h16', DataType.FLOAT16, [2], new Uint8Array(4))],
    }), { opset: 13, irVersion: 7 }));
    const overview = m.overview();
    assert.equal(overview.irVersion, 7);
    assert.deepEqual(overview.opsets, [{ domain: 'ai.onnx', version: 13 }]);
    assert.deepEqual(overview.inputs, [{ name: 'x', type: 'float32[batch,4]' }], 'an initializer listed as input is not a model input');
    assert.equal(overview.parameterCount, 10);
    assert.deepEqual(overview.byDataType, [
      { dataType: 'float32', tensors: 1, parameters: 8, bytes: 32 }, { dataType: 'float16', tensors: 1, parameters: 2, bytes: 4 },
    ]);
    assert.deepEqual(overview.opTypeCounts.map((op) => `${op.opType}=${op.count}`), ['com.example:Custom=1', 'MatMul=1', 'Relu=1']);
  });
});
