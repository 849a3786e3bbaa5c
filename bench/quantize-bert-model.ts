/**
 * Writes a BERT-base-sized encoder (about 110 M parameters, 440 MB of float32)
 * for the quantization benchmark: word, position and token-type embeddings,
 * 12 layers of multi-head attention and GELU feed-forward with LayerNormalization,
 * and the pooler, with the node pattern a PyTorch export gives (MatMul + Add).
 * Values are random (seeded). The file is streamed a layer at a time: the graph
 * is written as its nodes, then one GraphProto fragment per layer holding that
 * layer's initializers (a repeated protobuf field may arrive in pieces).
 */
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writer } from 'protobufjs/minimal';
import { onnx } from '../src/core';
import { attr, DataType, encode, floatTensor, graph, int64Tensor, model, node, randomFloats, rawTensor, valueInfo } from '../test/support/model-builder';

export const BERT_BASE = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, vocabulary: 30522, positions: 512, sequence: 128 } as const;

const GRAPH_FIELD_NUMBER = 7; // ModelProto.graph in onnx.proto
const LENGTH_DELIMITED_WIRE_TYPE = 2;
const WEIGHT_SCALE = 0.05;

export async function ensureBertModel(filePath: string): Promise<void> {
  if (existsSync(filePath)) return;
  await fs.mkdir(path.dirname(filePath), { recursive: true });
  const partial = `${filePath}.partial`;
  await pipeline(Readable.from(modelChunks()), createWriteStream(partial));
  await fs.rename(partial, filePath);
}

function* modelChunks(): Generator<Uint8Array> {
  const head = graph({
    name: 'bert-base', nodes: bertNodes(), initializers: constants(),
    inputs: [valueInfo('input_ids', DataType.INT64, ['batch', BERT_BASE.sequence])],
    outputs: [valueInfo('last_hidden_state', DataType.FLOAT, ['batch', BERT_BASE.sequence, BERT_BASE.hidden]), valueInfo('pooled', DataType.FLOAT, ['batch', BERT_BASE.hidden])],
  });
  const graphHead = onnx.GraphProto.encode(head).finish();
  const fragments = Array.from({ length: BERT_BASE.layers + 2 }, (_, index) => index);
  const length = fragments.reduce((total, index) => total + onnx.GraphProto.encode(weightFragment(index)).len, 0);
  yield encode({ ...model(head, { opset: 17 }), graph: null });
  yield Writer.create().uint32((GRAPH_FIELD_NUMBER << 3) | LENGTH_DELIMITED_WIRE_TYPE).uint32(graphHead.length + length).finish();
  yield graphHead;
  for (const index of fragments) yield onnx.GraphProto.encode(weightFragment(index)).finish();
}

/** Fragment 0: embeddings; 1..12: encoder layers; 13: pooler. Seeded by position, so every call gives the same bytes. */
function weightFragment(index: number): onnx.IGraphProto {
  const { hidden, intermediate, vocabulary, positions, layers } = BERT_BASE;
  let seed = 1000 * (index + 1);
  const weight = (name: string, dims: number[]) => rawTensor(name, DataType.FLOAT, dims, new Uint8Array(randomFloats(dims.reduce((a, b) => a * b, 1), seed++, WEIGHT_SCALE).buffer));
  const norm = (prefix: string) => [floatTensor(`${prefix}.weight`, [hidden], new Float32Array(hidden).fill(1)), weight(`${prefix}.bias`, [hidden])];
  if (index === 0) {
    return { initializer: [weight('embeddings.word', [vocabulary, hidden]), weight('embeddings.position', [positions, hidden]), weight('embeddings.token_type', [2, hidden]), ...norm('embeddings.norm')] };
  }
  if (index === layers + 1) return { initializer: [weight('pooler.weight', [hidden, hidden]), weight('pooler.bias', [hidden])] };
  const p = `layer${index - 1}`;
  return {
    initializer: [
      ...['query', 'key', 'value', 'output'].flatMap((name) => [weight(`${p}.${name}.weight`, [hidden, hidden]), weight(`${p}.${name}.bias`, [hidden])]),
      ...norm(`${p}.attention_norm`),
      weight(`${p}.ffn1.weight`, [hidden, intermediate]), weight(`${p}.ffn1.bias`, [intermediate]),
      weight(`${p}.ffn2.weight`, [intermediate, hidden]), weight(`${p}.ffn2.bias`, [hidden]),
      ...norm(`${p}.output_norm`),
    ],
  };
}

function constants(): onnx.TensorProto[] {
  const { sequence, heads, hidden } = BERT_BASE;
  return [
    int64Tensor('position_ids', [sequence], Array.from({ length: sequence }, (_, i) => i)),
    int64Tensor('token_type_ids', [sequence], new Array(sequence).fill(0)),
    int64Tensor('heads_shape', [4], [0, sequence, heads, hidden / heads]),
    int64Tensor('hidden_shape', [3], [0, sequence, hidden]),
    int64Tensor('first_token', [], [0]),
    floatTensor('sqrt_head', [], [Math.sqrt(hidden / heads)]), floatTensor('sqrt2', [], [Math.SQRT2]), floatTensor('one', [], [1]), floatTensor('half', [], [0.5]),
  ];
}

function bertNodes(): onnx.NodeProto[] {
  const nodes = [
    node('Gather', ['embeddings.word', 'input_ids'], ['words'], [], 'embeddings/word/Gather'),
    node('Gather', ['embeddings.position', 'position_ids'], ['positions'], [], 'embeddings/position/Gather'),
    node('Gather', ['embeddings.token_type', 'token_type_ids'], ['token_types'], [], 'embeddings/token_type/Gather'),
    node('Add', ['words', 'positions'], ['embedded_1'], [], 'embeddings/Add'),
    node('Add', ['embedded_1', 'token_types'], ['embedded'], [], 'embeddings/Add_1'),
    layerNorm('embeddings.norm', 'embedded', 'hidden0'),
  ];
  for (let layer = 0; layer < BERT_BASE.layers; layer++) nodes.push(...encoderLayer(layer));
  const last = `hidden${BERT_BASE.layers}`;
  nodes.push(
    node('Identity', [last], ['last_hidden_state'], [], 'output/Identity'),
    node('Gather', [last, 'first_token'], ['cls'], [attr.int('axis', 1)], 'pooler/Gather'),
    ...linear('pooler', 'cls', 'pooler_linear'),
    node('Tanh', ['pooler_linear'], ['pooled'], [], 'pooler/Tanh'),
  );
  return nodes;
}

function layerNorm(prefix: string, input: string, output: string): onnx.NodeProto {
  return node('LayerNormalization', [input, `${prefix}.weight`, `${prefix}.bias`], [output], [attr.int('axis', -1), attr.float('epsilon', 1e-12)], `${prefix}/LayerNormalization`);
}

function linear(prefix: string, input: string, output: string): onnx.NodeProto[] {
  return [
    node('MatMul', [input, `${prefix}.weight`], [`${output}_mm`], [], `${prefix}/MatMul`),
    node('Add', [`${output}_mm`, `${prefix}.bias`], [output], [], `${prefix}/Add`),
  ];
}

function encoderLayer(layer: number): onnx.NodeProto[] {
  const p = `layer${layer}`;
  const v = (name: string) => `${p}/${name}`;
  const input = `hidden${layer}`;
  const heads = (name: string, perm: number[]) => [
    node('Reshape', [v(name), 'heads_shape'], [v(`${name}_heads`)], [], `${v(name)}/Reshape`),
    node('Transpose', [v(`${name}_heads`)], [v(`${name}_t`)], [attr.ints('perm', perm)], `${v(name)}/Transpose`),
  ];
  return [
    ...linear(`${p}.query`, input, v('q')), ...linear(`${p}.key`, input, v('k')), ...linear(`${p}.value`, input, v('v')),
    ...heads('q', [0, 2, 1, 3]), ...heads('k', [0, 2, 3, 1]), ...heads('v', [0, 2, 1, 3]),
    node('MatMul', [v('q_t'), v('k_t')], [v('scores')], [], `${p}/attention/MatMul`),
    node('Div', [v('scores'), 'sqrt_head'], [v('scaled')], [], `${p}/attention/Div`),
    node('Softmax', [v('scaled')], [v('probs')], [attr.int('axis', -1)], `${p}/attention/Softmax`),
    node('MatMul', [v('probs'), v('v_t')], [v('context_heads')], [], `${p}/attention/MatMul_1`),
    node('Transpose', [v('context_heads')], [v('context_t')], [attr.ints('perm', [0, 2, 1, 3])], `${p}/attention/Transpose`),
    node('Reshape', [v('context_t'), 'hidden_shape'], [v('context')], [], `${p}/attention/Reshape`),
    ...linear(`${p}.output`, v('context'), v('attention_out')),
    node('Add', [v('attention_out'), input], [v('residual1')], [], `${p}/attention/residual`),
    layerNorm(`${p}.attention_norm`, v('residual1'), v('normed1')),
    ...linear(`${p}.ffn1`, v('normed1'), v('ffn1')),
    node('Div', [v('ffn1'), 'sqrt2'], [v('gelu_div')], [], `${p}/gelu/Div`),
    node('Erf', [v('gelu_div')], [v('gelu_erf')], [], `${p}/gelu/Erf`),
    node('Add', [v('gelu_erf'), 'one'], [v('gelu_add')], [], `${p}/gelu/Add`),
    node('Mul', [v('ffn1'), v('gelu_add')], [v('gelu_mul')], [], `${p}/gelu/Mul`),
    node('Mul', [v('gelu_mul'), 'half'], [v('gelu')], [], `${p}/gelu/Mul_1`),
    ...linear(`${p}.ffn2`, v('gelu'), v('ffn2')),
    node('Add', [v('ffn2'), v('normed1')], [v('residual2')], [], `${p}/output/residual`),
    layerNorm(`${p}.output_norm`, v('residual2'), `hidden${layer + 1}`),
  ];
}
