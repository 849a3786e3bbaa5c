/**
 * What the pass tests share: generated Conv, MLP and attention models, ONNX
 * Runtime runs of several models on the same feeds, output cosine similarity,
 * and ONNX's reference checker (Debian's python3-onnx) over pass outputs.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel, onnx, OnnxModel } from '../../src/core';
import { DEBIAN_PYTHON, REPO_ROOT } from './fixtures';
import { attr, constantNode, DataType, floatTensor, graph, int64Tensor, model, node, randomFloats, valueInfo } from './model-builder';
import { PlainTensor } from './ort-protocol';
import { OrtRunner } from './ort-runner';

export type WeightHome = 'initializer' | 'constant';

const RUN_TIMEOUT_MS = 120_000;

/** Outputs of each model on the same feed sets: [model][feedSet][output]. */
export async function runAll(runner: OrtRunner, models: Uint8Array[], feedSets: PlainTensor[][]): Promise<PlainTensor[][][]> {
  const outcomes = await runner.run({ models, feedSets }, RUN_TIMEOUT_MS);
  return models.map((_, index) => {
    const outcome = outcomes[index];
    if (outcome?.kind !== 'ran') assert.fail(`model ${index} did not run in ONNX Runtime: ${JSON.stringify(outcome ?? 'not reached')}`);
    return outcome.outputSets;
  });
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 && bb === 0 ? 1 : dot / Math.sqrt(aa * bb);
}

/** Per output name, the cosine similarity over all feed sets together. */
export function outputCosines(reference: PlainTensor[][], candidate: PlainTensor[][]): Record<string, number> {
  const joined = (sets: PlainTensor[][], name: string) => sets.flatMap((outputs) => Array.from(outputs.find((o) => o.name === name)!.data as Float32Array));
  const names = reference[0].filter((output) => output.type === 'float32').map((output) => output.name);
  return Object.fromEntries(names.map((name) => [name, cosine(joined(reference, name), joined(candidate, name))]));
}

export function minimum(values: Record<string, number>): number {
  return Math.min(...Object.values(values));
}

export function defaultOpset(proto: onnx.IModelProto): number {
  const entry = (proto.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? Number(entry.version) : 0;
}

/** ONNX's checker with full_check on each model; returns the failures (label: error). */
export function checkerFailures(models: { label: string; proto: onnx.ModelProto }[]): string[] {
  if (models.length === 0) return [];
  const folder = mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-check-'));
  try {
    const paths = models.map(({ proto }, index) => {
      const file = path.join(folder, `m${index}.onnx`);
      writeFileSync(file, encodeModel(proto));
      return file;
    });
    const output = execFileSync(DEBIAN_PYTHON, [path.join(REPO_ROOT, 'test/support/check_model.py'), ...paths], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const results = output.trim().split('\n').map((line) => JSON.parse(line) as { ok: boolean; error?: string });
    return results.flatMap((result, index) => (result.ok ? [] : [`${models[index].label}: ${result.error}`]));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The op types of the model ONNX Runtime actually runs after its graph optimizations (fusions included). */
export function ortOptimizedOpTypes(bytes: Uint8Array): string[] {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'onnx-lens-ort-'));
  try {
    const input = path.join(folder, 'in.onnx');
    const optimized = path.join(folder, 'optimized.onnx');
    writeFileSync(input, bytes);
    const script = `const ort = require(${JSON.stringify(path.join(REPO_ROOT, 'node_modules/onnxruntime-node'))});
      ort.InferenceSession.create(process.argv[1], { graphOptimizationLevel: 'all', optimizedModelFilePath: process.argv[2], logSeverityLevel: 3 })
        .then((s) => s.release()).catch((e) => { console.error(e.message); process.exit(1); });`;
    execFileSync(process.execPath, ['-e', script, input, optimized], { stdio: ['ignore', 'ignore', 'pipe'] });
    const decoded = OnnxModel.fromBytes(readFileSync(optimized));
    return (decoded.proto.graph?.node ?? []).map((n) => n.opType ?? '');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export function floatFeed(name: string, dims: number[], seed: number, scale = 1): PlainTensor {
  return { name, type: 'float32', dims, data: randomFloats(dims.reduce((a, b) => a * b, 1), seed, scale) };
}

export interface Generated {
  readonly proto: onnx.ModelProto;
  readonly feedSets: PlainTensor[][];
}

/** A weight as an initializer or a Constant node, random in [-1/√fanIn, 1/√fanIn). */
class Weights {
  readonly initializers: onnx.TensorProto[] = [];
  readonly constants: onnx.NodeProto[] = [];
  private seed: number;

  constructor(private readonly home: WeightHome, seed: number) {
    this.seed = seed;
  }

  add(name: string, dims: number[], fanIn = dims[dims.length - 1], values?: ArrayLike<number>): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const tensor = floatTensor(name, dims, values ?? randomFloats(count, this.seed++, 1 / Math.sqrt(fanIn)));
    if (this.home === 'initializer') this.initializers.push(tensor);
    else this.constants.push(constantNode(name, attr.tensor('value', { ...tensor, name: '' })));
    return name;
  }
}

/** Gemm (transB) -> Relu -> MatMul + Add -> Relu -> Gemm: a small MLP. */
export function mlpGraph(home: WeightHome, prefix = ''): onnx.GraphProto {
  const w = new Weights(home, 11);
  const p = (name: string) => `${prefix}${name}`;
  const nodes = [
    node('Gemm', ['x', w.add(p('fc1.weight'), [128, 64], 64), w.add(p('fc1.bias'), [128], 64)], [p('h1')], [attr.int('transB', 1)], p('fc1')),
    node('Relu', [p('h1')], [p('a1')], [], p('relu1')),
    node('MatMul', [p('a1'), w.add(p('fc2.weight'), [128, 64], 128)], [p('m2')], [], p('fc2')),
    node('Add', [p('m2'), w.add(p('fc2.bias'), [64], 128)], [p('h2')], [], p('fc2_add')),
    node('Relu', [p('h2')], [p('a2')], [], p('relu2')),
    node('Gemm', [p('a2'), w.add(p('fc3.weight'), [64, 10], 64), w.add(p('fc3.bias'), [10], 64)], [p('y')], [], p('fc3')),
  ];
  return graph({
    name: `${prefix}mlp`, nodes: [...w.constants, ...nodes], initializers: w.initializers,
    inputs: prefix ? [] : [valueInfo('x', DataType.FLOAT, [4, 64])], outputs: [valueInfo(p('y'), DataType.FLOAT, [4, 10])],
  });
}

export function mlpModel(home: WeightHome = 'initializer', opset = 13): Generated {
  return { proto: model(mlpGraph(home), { opset }), feedSets: [0, 1, 2].map((seed) => [floatFeed('x', [4, 64], 100 + seed)]) };
}

/**
 * The MLP inside an If: the then branch keeps its weights as subgraph
 * initializers, the else branch as Constant nodes; feeds take both branches.
 */
export function mlpInIfModel(opset = 13): Generated {
  const branch = (home: WeightHome, prefix: string) => {
    const g = mlpGraph(home, prefix);
    return graph({ name: prefix, nodes: [...g.node, node('Identity', [`${prefix}y`], [`${prefix}out`])], initializers: g.initializer, outputs: [valueInfo(`${prefix}out`, DataType.FLOAT, [4, 10])] });
  };
  const main = graph({
    name: 'if-mlp',
    nodes: [node('If', ['cond'], ['y'], [attr.graph('then_branch', branch('initializer', 'then_')), attr.graph('else_branch', branch('constant', 'else_'))], 'If_0')],
    inputs: [valueInfo('x', DataType.FLOAT, [4, 64]), valueInfo('cond', DataType.BOOL, [])],
    outputs: [valueInfo('y', DataType.FLOAT, [4, 10])],
  });
  const feeds = (seed: number, cond: boolean): PlainTensor[] => [floatFeed('x', [4, 64], seed), { name: 'cond', type: 'bool', dims: [], data: Uint8Array.of(cond ? 1 : 0) }];
  return { proto: model(main, { opset }), feedSets: [feeds(1, true), feeds(2, false), feeds(3, true), feeds(4, false)] };
}

/**
 * Conv(3->16)+bias -> BatchNormalization -> Relu -> Conv(16->32) -> Relu ->
 * MaxPool -> Conv(32->16, 1x1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(16->10).
 */
export function convModel(home: WeightHome = 'initializer', opset = 13): Generated {
  const w = new Weights(home, 21);
  const conv = (name: string, input: string, output: string, outC: number, inC: number, k: number) => node('Conv', [input, w.add(`${name}.weight`, [outC, inC, k, k], inC * k * k), w.add(`${name}.bias`, [outC], inC * k * k)], [output],
    [attr.ints('kernel_shape', [k, k]), attr.ints('pads', k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0])], name);
  const positive = (count: number, seed: number) => Array.from(randomFloats(count, seed, 0.5), (v) => 1 + v);
  const nodes = [
    conv('conv1', 'x', 'c1', 16, 3, 3),
    node('BatchNormalization', ['c1', w.add('bn1.scale', [16], 1, positive(16, 5)), w.add('bn1.bias', [16], 4), w.add('bn1.mean', [16], 16), w.add('bn1.var', [16], 1, positive(16, 6))], ['b1'], [], 'bn1'),
    node('Relu', ['b1'], ['r1'], [], 'relu1'),
    conv('conv2', 'r1', 'c2', 32, 16, 3),
    node('Relu', ['c2'], ['r2'], [], 'relu2'),
    node('MaxPool', ['r2'], ['p2'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])], 'pool2'),
    conv('conv3', 'p2', 'c3', 16, 32, 1),
    node('Relu', ['c3'], ['r3'], [], 'relu3'),
    node('GlobalAveragePool', ['r3'], ['g3'], [], 'gap'),
    node('Flatten', ['g3'], ['f3'], [attr.int('axis', 1)], 'flatten'),
    node('Gemm', ['f3', w.add('fc.weight', [10, 16], 16), w.add('fc.bias', [10], 16)], ['y'], [attr.int('transB', 1)], 'fc'),
  ];
  const g = graph({ name: 'convnet', nodes: [...w.constants, ...nodes], initializers: w.initializers, inputs: [valueInfo('x', DataType.FLOAT, [2, 3, 16, 16])], outputs: [valueInfo('y', DataType.FLOAT, [2, 10])] });
  return { proto: model(g, { opset }), feedSets: [0, 1, 2].map((seed) => [floatFeed('x', [2, 3, 16, 16], 200 + seed)]) };
}

export const ATTENTION = { batch: 2, sequence: 8, hidden: 64, heads: 4, ffn: 256, vocabulary: 100 } as const;

/**
 * A transformer encoder block (opset 17) as exported from PyTorch: token
 * embedding (Gather), LayerNormalization, Q/K/V projections (MatMul + Add),
 * multi-head attention (Reshape, Transpose, MatMul, Softmax), output
 * projection, residual Add, LayerNormalization, and an Erf-GELU feed-forward.
 */
export function attentionModel(home: WeightHome = 'initializer'): Generated {
  const { batch, sequence, hidden, heads, ffn, vocabulary } = ATTENTION;
  const w = new Weights(home, 31);
  const headSize = hidden / heads;
  const ones = (n: number) => Array.from({ length: n }, () => 1);
  const linear = (name: string, input: string, output: string, inF: number, outF: number) => [
    node('MatMul', [input, w.add(`${name}.weight`, [inF, outF], inF)], [`${output}_mm`], [], `${name}/MatMul`),
    node('Add', [`${output}_mm`, w.add(`${name}.bias`, [outF], inF)], [output], [], `${name}/Add`),
  ];
  const splitHeads = (input: string, output: string, perm: number[]) => [
    node('Reshape', [input, 'heads_shape'], [`${output}_r`], [], `${output}/Reshape`),
    node('Transpose', [`${output}_r`], [output], [attr.ints('perm', perm)], `${output}/Transpose`),
  ];
  const nodes = [
    node('Gather', [w.add('embeddings.weight', [vocabulary, hidden], hidden), 'input_ids'], ['emb'], [], 'embeddings/Gather'),
    node('LayerNormalization', ['emb', w.add('ln1.weight', [hidden], 1, ones(hidden)), w.add('ln1.bias', [hidden], hidden)], ['ln1'], [attr.int('axis', -1)], 'ln1'),
    ...linear('query', 'ln1', 'q', hidden, hidden), ...linear('key', 'ln1', 'k', hidden, hidden), ...linear('value', 'ln1', 'v', hidden, hidden),
    ...splitHeads('q', 'qh', [0, 2, 1, 3]), ...splitHeads('k', 'kh', [0, 2, 3, 1]), ...splitHeads('v', 'vh', [0, 2, 1, 3]),
    node('MatMul', ['qh', 'kh'], ['scores'], [], 'attention/MatMul_qk'),
    node('Div', ['scores', 'sqrt_head'], ['scaled'], [], 'attention/Div'),
    node('Softmax', ['scaled'], ['probs'], [attr.int('axis', -1)], 'attention/Softmax'),
    node('MatMul', ['probs', 'vh'], ['context_h'], [], 'attention/MatMul_v'),
    node('Transpose', ['context_h'], ['context_t'], [attr.ints('perm', [0, 2, 1, 3])], 'attention/Transpose'),
    node('Reshape', ['context_t', 'hidden_shape'], ['context'], [], 'attention/Reshape'),
    ...linear('output', 'context', 'attn', hidden, hidden),
    node('Add', ['attn', 'emb'], ['res1'], [], 'residual1'),
    node('LayerNormalization', ['res1', w.add('ln2.weight', [hidden], 1, ones(hidden)), w.add('ln2.bias', [hidden], hidden)], ['ln2'], [attr.int('axis', -1)], 'ln2'),
    ...linear('ffn1', 'ln2', 'f1', hidden, ffn),
    node('Div', ['f1', 'sqrt2'], ['f1s'], [], 'gelu/Div'),
    node('Erf', ['f1s'], ['erf'], [], 'gelu/Erf'),
    node('Add', ['erf', 'one'], ['erf1'], [], 'gelu/Add'),
    node('Mul', ['f1', 'erf1'], ['f1e'], [], 'gelu/Mul'),
    node('Mul', ['f1e', 'half'], ['gelu'], [], 'gelu/Mul_1'),
    ...linear('ffn2', 'gelu', 'f2', ffn, hidden),
    node('Add', ['f2', 'res1'], ['y'], [], 'residual2'),
  ];
  const scalars = [
    floatTensor('sqrt_head', [], [Math.sqrt(headSize)]), floatTensor('sqrt2', [], [Math.SQRT2]), floatTensor('one', [], [1]), floatTensor('half', [], [0.5]),
    int64Tensor('heads_shape', [4], [batch, sequence, heads, headSize]), int64Tensor('hidden_shape', [3], [batch, sequence, hidden]),
  ];
  const g = graph({
    name: 'encoder-block', nodes: [...w.constants, ...nodes], initializers: [...w.initializers, ...scalars],
    inputs: [valueInfo('input_ids', DataType.INT64, [batch, sequence])], outputs: [valueInfo('y', DataType.FLOAT, [batch, sequence, hidden])],
  });
  const ids = (seed: number): PlainTensor => ({
    name: 'input_ids', type: 'int64', dims: [batch, sequence],
    data: BigInt64Array.from(randomFloats(batch * sequence, seed), (v) => BigInt(Math.floor((v + 1) / 2 * vocabulary))),
  });
  return { proto: model(g, { opset: 17 }), feedSets: [[ids(1)], [ids(2)], [ids(3)]] };
}

export function openGenerated(generated: Generated): OnnxModel {
  return OnnxModel.fromBytes(encodeModel(generated.proto));
}
