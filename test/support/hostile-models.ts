/**
 * Hostile ONNX inputs for the parser tests: seed models, the mutations the
 * fuzz loop applies to them (byte-level and on decoded fields), and
 * hand-built models each aimed at one way a file can lie.
 */
import { readFileSync } from 'node:fs';
import { decodeModel, onnx } from '../../src/core';
import { toLong } from '../../src/core/onnx/int64';
import { seededRandom } from '../../src/core/runtime/random';
import { REAL_MODELS } from './fixtures';
import {
  attr, constantNode, DataType, encode, floatTensor, graph, int64Tensor, model, node, randomFloats, rawTensor, valueInfo,
} from './model-builder';

export interface Seed {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface FuzzCase {
  /** Seed and mutations, enough to tell what the input was. */
  readonly description: string;
  readonly bytes: Uint8Array;
}

const bytesOf = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

/** The file the seeds' external tensor points to: its two floats, then spare bytes for mutated offsets and lengths. */
export const EXTERNAL_DATA_FILE = { name: 'weights.bin', bytes: bytesOf(Float32Array.of(1.5, -2.5, 0, 0, 3, 4, 5, 6)) };

/** A small model with one of each thing the open path reads: every storage, many data types, quantized, sparse and nested weights. */
export function kitchenSinkModel(): onnx.ModelProto {
  const int8 = Int8Array.from(randomFloats(32, 1, 100), Math.round);
  const then = graph({
    name: 'then', nodes: [node('MatMul', ['h', 'W_then'], ['t_out'], [], 'then_mm'), constantNode('c_then', attr.floats('value_floats', [1, 2]))],
    initializers: [floatTensor('W_then', [4, 4], randomFloats(16, 2))], outputs: [valueInfo('t_out', DataType.FLOAT, [1, 4])],
  });
  const loopBody = graph({
    name: 'body',
    nodes: [node('If', ['cond'], ['inner'], [attr.graph('then_branch', then), attr.graph('else_branch', then)], 'inner_if'), node('Mul', ['inner', 'W'], ['l_out'], [], 'loop_mul')],
    inputs: [valueInfo('i', DataType.INT64, []), valueInfo('cond', DataType.BOOL, [])],
  });
  const sparseLinear = { values: floatTensor('SP', [3], [1, -2, 3]), indices: int64Tensor('SP_idx', [3], [0, 5, 15]), dims: [toLong(4), toLong(4)] };
  const sparseCoords = { values: floatTensor('SC', [2], [4, 5]), indices: int64Tensor('SC_idx', [2, 2], [0, 1, 3, 3]), dims: [toLong(4), toLong(4)] };
  const g = graph({
    name: 'sink',
    inputs: [valueInfo('x', DataType.FLOAT, ['batch', 8]), valueInfo('img', DataType.FLOAT, [1, 1, 5, 5])],
    outputs: [valueInfo('y', DataType.FLOAT, ['batch', 4]), onnx.ValueInfoProto.create({ name: 'seq', type: { sequenceType: { elemType: { tensorType: { elemType: 1 } } } } })],
    initializers: [
      floatTensor('W', [4, 8], randomFloats(32, 3)),
      onnx.TensorProto.create({ name: 'B', dataType: DataType.FLOAT, dims: [toLong(4)], floatData: [0.5, -0.5, 1, 0] }),
      rawTensor('Wq', DataType.INT8, [4, 8], bytesOf(int8)),
      floatTensor('Wq_scale', [4], [0.01, 0.02, 0.03, 0.04]),
      rawTensor('Wq_zp', DataType.INT8, [4], new Uint8Array(4)),
      rawTensor('W4', DataType.INT4, [2, 64], Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff)),
      floatTensor('W4_scale', [2, 2], [0.1, 0.2, 0.3, 0.4]),
      rawTensor('H', DataType.FLOAT16, [4], bytesOf(Uint16Array.from([0x3c00, 0xbc00, 0x7c00, 0x0001]))),
      rawTensor('BF', DataType.BFLOAT16, [2], bytesOf(Uint16Array.from([0x3f80, 0xc000]))),
      rawTensor('F8', DataType.FLOAT8E4M3FN, [4], Uint8Array.from([0, 0x38, 0x7f, 0xff])),
      onnx.TensorProto.create({ name: 'D', dataType: DataType.DOUBLE, dims: [toLong(2), toLong(2)], doubleData: [1, 2, 3, 4] }),
      onnx.TensorProto.create({ name: 'U4', dataType: DataType.UINT4, dims: [toLong(3)], int32Data: [0x21, 0x3] }),
      onnx.TensorProto.create({ name: 'S', dataType: DataType.STRING, dims: [toLong(2)], stringData: [Uint8Array.of(104, 105), Uint8Array.of()] }),
      rawTensor('C', DataType.COMPLEX64, [1], bytesOf(Float32Array.of(1, -1))),
      int64Tensor('shape', [2], [-1, 4]),
      floatTensor('Wconv', [2, 1, 3, 3], randomFloats(18, 4)),
      floatTensor('E', [6, 2], randomFloats(12, 5)),
      onnx.TensorProto.create({
        name: 'X', dataType: DataType.FLOAT, dims: [toLong(2)], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [{ key: 'location', value: EXTERNAL_DATA_FILE.name }, { key: 'offset', value: '0' }, { key: 'length', value: '8' }],
      }),
    ],
    sparseInitializers: [sparseLinear, sparseCoords],
    nodes: [
      node('Gemm', ['x', 'W', 'B'], ['h'], [attr.int('transB', 1), attr.float('alpha', 1)], 'gemm'),
      node('DequantizeLinear', ['Wq', 'Wq_scale', 'Wq_zp'], ['Wq_real'], [attr.int('axis', 0)], 'dq8'),
      node('Mul', ['Wq_real', 'H'], ['Wq_eq'], [], 'eq'),
      node('MatMul', ['h', 'Wq_eq'], ['m'], [], 'mm8'),
      node('DequantizeLinear', ['W4', 'W4_scale'], ['W4_real'], [attr.int('axis', 1), attr.int('block_size', 32)], 'dq4'),
      node('MatMul', ['m', 'W4_real'], ['m4'], [], 'mm4'),
      node('Conv', ['img', 'Wconv'], ['conv'], [attr.ints('pads', [1, 1, 1, 1]), attr.string('auto_pad', 'NOTSET')], 'conv'),
      node('Gather', ['E', 'idx'], ['emb'], [], 'gather'),
      node('Add', ['SP', 'SC'], ['sp'], [], 'sparse_add'),
      node('Reshape', ['m4', 'shape'], ['y'], [], 'reshape'),
      node('Loop', ['', 'cond0'], ['looped'], [attr.graph('body', loopBody)], 'loop'),
      node('Branches', ['x'], ['branched'], [{ name: 'branches', type: onnx.AttributeProto.AttributeType.GRAPHS, graphs: [then, loopBody] }], 'branches', 'local'),
      node('Block', ['x', 'BF', 'F8', 'D', 'U4', 'S', 'C', 'X'], ['fn_out'], [], 'call', 'local'),
      constantNode('c_tensor', attr.tensor('value', floatTensor('', [2, 2], [1, 0, 0, 1]))),
      constantNode('c_ints', attr.ints('value_ints', [3, 1, 4])),
      constantNode('c_string', attr.string('value_string', 'hello')),
      constantNode('c_sparse', attr.sparseTensor('sparse_value', { values: floatTensor('cs', [1], [9]), indices: int64Tensor('cs_idx', [1], [2]), dims: [toLong(3)] })),
    ],
  });
  const block: onnx.IFunctionProto = {
    name: 'Block', domain: 'local', input: ['a'], output: ['b'],
    node: [constantNode('fw', attr.tensor('value', floatTensor('', [8, 8], randomFloats(64, 6)))), node('MatMul', ['a', 'fw'], ['b'], [], 'fn_mm')],
  };
  const m = model(g, { functions: [block], extraOpsets: [{ domain: 'local', version: 1 }] });
  m.trainingInfo = [{
    initialization: graph({ name: 'init', nodes: [constantNode('step', attr.int('value_int', 0))] }),
    algorithm: graph({ name: 'train', nodes: [node('Mul', ['W', 'lr'], ['W_step'], [], 'update')], initializers: [floatTensor('lr', [1], [0.01])] }),
    updateBinding: [{ key: 'W', value: 'W_step' }],
  }];
  m.docString = 'every kind of weight';
  m.metadataProps = [{ key: 'author', value: 'tests' }];
  return m;
}

/** Models the fuzz loop mutates: built ones (small, so many per second) and every real trained model. */
export interface SeedCorpus {
  readonly built: readonly Seed[];
  readonly real: readonly Seed[];
}

export function fuzzSeeds(): SeedCorpus {
  const tiny = model(graph({ nodes: [node('MatMul', ['x', 'W'], ['y'], [], 'mm')], initializers: [floatTensor('W', [2, 2], [1, 2, 3, 4])] }));
  return {
    built: [{ name: 'kitchenSink', bytes: encode(kitchenSinkModel()) }, { name: 'tiny', bytes: encode(tiny) }],
    real: Object.entries(REAL_MODELS).map(([name, file]) => ({ name, bytes: new Uint8Array(readFileSync(file)) })),
  };
}

/** A seeded source of choices. */
export class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

/**
 * Fuzz case `index` of run `seed`: one seed model, mutated at the byte level
 * or in its decoded fields (then maybe at the byte level too). The same
 * (seed, index) always gives the same bytes.
 */
export function fuzzCase(seeds: SeedCorpus, seed: number, index: number): FuzzCase {
  const random = new Random((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  // The built seeds are small and reach every code path; real models are slower and come one time in eight.
  const source = random.pick(random.chance(7 / 8) ? seeds.built : seeds.real);
  const steps: string[] = [];
  let bytes = source.bytes;
  if (random.chance(0.4)) {
    const decoded = decodeModel(bytes);
    for (let i = 0, count = 1 + random.int(3); i < count; i++) steps.push(mutateFields(decoded, random));
    bytes = encode(decoded);
  }
  if (steps.length === 0 || random.chance(0.2)) {
    for (let i = 0, count = 1 + random.int(3); i < count; i++) {
      const kind = random.pick(Object.keys(BYTE_MUTATIONS));
      const mutated = BYTE_MUTATIONS[kind](bytes, random);
      steps.push(`${kind}@${mutated.at}`);
      bytes = mutated.bytes;
    }
  }
  return { description: `${source.name}: ${steps.join(', ')}`, bytes };
}

/** Returns new bytes, never writing to `bytes` (note that Buffer's slice() would: it is a view). */
type ByteMutation = (bytes: Uint8Array, random: Random) => { bytes: Uint8Array; at: number };

/** Varints a corrupt file is likely to hold: maximal, overlong, negative, zero. */
const HOSTILE_VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
  [0xff, 0xff, 0xff, 0xff, 0x0f], [0x00], [0x7f], [0x80, 0x80, 0x80, 0x80, 0x10],
];

const BYTE_MUTATIONS: Record<string, ByteMutation> = {
  truncate: (bytes, random) => {
    const at = random.int(bytes.length);
    return { bytes: bytes.subarray(0, at), at };
  },
  flip: (bytes, random) => {
    const out = new Uint8Array(bytes);
    const at = random.int(out.length);
    for (let i = 0, count = 1 + random.int(4); i < count; i++) out[random.chance(0.5) ? at : random.int(out.length)] ^= 1 + random.int(255);
    return { bytes: out, at };
  },
  insert: (bytes, random) => {
    const at = random.int(bytes.length + 1);
    const inserted = Uint8Array.from({ length: 1 + random.int(16) }, () => random.int(256));
    return { bytes: concat(bytes.subarray(0, at), inserted, bytes.subarray(at)), at };
  },
  remove: (bytes, random) => {
    const at = random.int(bytes.length);
    return { bytes: concat(bytes.subarray(0, at), bytes.subarray(at + 1 + random.int(32))), at };
  },
  varint: (bytes, random) => {
    const at = random.int(bytes.length);
    const out = new Uint8Array(bytes);
    out.set(random.pick(HOSTILE_VARINTS).slice(0, out.length - at), at);
    return { bytes: out, at };
  },
  duplicate: (bytes, random) => {
    const from = random.int(bytes.length);
    const at = random.int(bytes.length + 1);
    return { bytes: concat(bytes.subarray(0, at), bytes.subarray(from, from + 1 + random.int(64)), bytes.subarray(at)), at };
  },
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The messages of a decoded model a field mutation can change. */
interface ModelParts {
  readonly tensors: onnx.TensorProto[];
  readonly sparseTensors: onnx.SparseTensorProto[];
  readonly nodes: onnx.NodeProto[];
  readonly graphs: onnx.GraphProto[];
  readonly attributes: onnx.AttributeProto[];
  readonly dims: onnx.TensorShapeProto.Dimension[];
}

function partsOf(decoded: onnx.ModelProto): ModelParts {
  const parts: ModelParts = { tensors: [], sparseTensors: [], nodes: [], graphs: [], attributes: [], dims: [] };
  const pending: unknown[] = [decoded];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) continue;
    if (value instanceof onnx.TensorProto) parts.tensors.push(value);
    else if (value instanceof onnx.SparseTensorProto) parts.sparseTensors.push(value);
    else if (value instanceof onnx.NodeProto) parts.nodes.push(value);
    else if (value instanceof onnx.GraphProto) parts.graphs.push(value);
    else if (value instanceof onnx.AttributeProto) parts.attributes.push(value);
    else if (value instanceof onnx.TensorShapeProto.Dimension) parts.dims.push(value);
    else if (!Array.isArray(value) && !(value instanceof onnx.ModelProto) && !isMessage(value)) continue;
    for (const child of Object.values(value)) pending.push(child);
  }
  return parts;
}

function isMessage(value: object): boolean {
  return typeof (value.constructor as { decode?: unknown }).decode === 'function';
}

/** int64 values that break naive code: negative, past 2^53, past 2^63 when unsigned, 10^12, zero. */
const HOSTILE_INT64 = [-1n, -3n, -(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n, 10n ** 12n, 0n, 2n ** 31n, 2n ** 32n + 1n, 7n, 1n];
const OP_TYPES = ['Constant', 'DequantizeLinear', 'If', 'Loop', 'Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Mul', 'Gather', 'LSTM', ''];
const ATTRIBUTE_NAMES = ['axis', 'block_size', 'transA', 'transB', 'value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings', 'sparse_value', 'body'];
const LOCATIONS = ['weights.bin', 'missing.bin', 'sub/../weights.bin', '../weights.bin', '/etc/passwd', '', 'C:\\w.bin', 'a\0b'];
const BYTE_COUNTS = ['0', '8', '-1', '1e99', '99999999999999999999', 'x'];

const hostileLong = (random: Random) => toLong(random.pick(HOSTILE_INT64));

/** Changes one decoded field to a hostile value and says which. */
type FieldMutation = (parts: ModelParts, random: Random) => string | undefined;

const FIELD_MUTATIONS: Record<string, FieldMutation> = {
  dim: ({ tensors }, random) => {
    const tensor = random.pick(tensors);
    if (!tensor) return undefined;
    const dims = [...tensor.dims];
    dims[random.int(dims.length + 1)] = hostileLong(random);
    tensor.dims = dims;
    return tensor.name;
  },
  dataType: ({ tensors }, random) => {
    const tensor = random.pick(tensors);
    if (!tensor) return undefined;
    tensor.dataType = random.chance(0.9) ? random.int(28) : random.pick([-1, 2 ** 31 - 1]);
    return tensor.name;
  },
  rawLength: ({ tensors }, random) => {
    const tensor = random.pick(tensors.filter((t) => t.rawData.length > 0));
    if (!tensor) return undefined;
    tensor.rawData = random.chance(0.5) ? tensor.rawData.subarray(0, random.int(tensor.rawData.length)) : concat(tensor.rawData, new Uint8Array(1 + random.int(8)));
    return tensor.name;
  },
  typedField: ({ tensors }, random) => {
    const tensor = random.pick(tensors);
    if (!tensor) return undefined;
    tensor.rawData = new Uint8Array();
    const count = random.int(6);
    const field = random.pick(['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data', 'stringData'] as const);
    if (field === 'int64Data' || field === 'uint64Data') tensor[field] = Array.from({ length: count }, () => hostileLong(random));
    else if (field === 'stringData') tensor[field] = Array.from({ length: count }, () => Uint8Array.of(0xff, 0xc0));
    else tensor[field] = Array.from({ length: count }, () => random.pick([0, -1, NaN, Infinity, 2 ** 31 - 1, 0.5]));
    return tensor.name;
  },
  external: ({ tensors }, random) => {
    const tensor = random.pick(tensors);
    if (!tensor) return undefined;
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [
      { key: 'location', value: random.pick(LOCATIONS) }, { key: 'offset', value: random.pick(BYTE_COUNTS) }, { key: 'length', value: random.pick(BYTE_COUNTS) },
    ].filter(() => random.chance(0.8));
    return tensor.name;
  },
  sparseDims: ({ sparseTensors }, random) => {
    const sparse = random.pick(sparseTensors);
    if (!sparse) return undefined;
    const dims = [...sparse.dims];
    dims[random.int(dims.length + 1)] = hostileLong(random);
    sparse.dims = dims;
    return sparse.values?.name ?? undefined;
  },
  sparseIndices: ({ sparseTensors }, random) => {
    const sparse = random.pick(sparseTensors);
    if (!sparse?.indices) return undefined;
    sparse.indices.rawData = new Uint8Array();
    sparse.indices.int64Data = Array.from({ length: random.int(4) }, () => hostileLong(random));
    if (random.chance(0.3)) sparse.indices.dims = [toLong(sparse.indices.int64Data.length)];
    return sparse.values?.name ?? undefined;
  },
  input: ({ nodes }, random) => {
    const target = random.pick(nodes);
    if (!target) return undefined;
    const name = random.chance(0.5) ? 'dangling' : random.pick(random.pick(nodes).output) ?? '';
    target.input = random.chance(0.2) ? [] : [...target.input.slice(0, random.int(target.input.length + 1)), name];
    return target.name;
  },
  output: ({ nodes }, random) => {
    const target = random.pick(nodes);
    if (!target) return undefined;
    target.output = random.chance(0.2) ? [] : [random.pick(random.pick(nodes).input) ?? 'dup'];
    return target.name;
  },
  opType: ({ nodes }, random) => {
    const target = random.pick(nodes);
    if (!target) return undefined;
    target.opType = random.pick(OP_TYPES);
    target.domain = random.pick(['', '', 'ai.onnx', 'com.microsoft', 'local']);
    return target.name;
  },
  attribute: ({ attributes }, random) => {
    const target = random.pick(attributes);
    if (!target) return undefined;
    target.i = hostileLong(random);
    if (random.chance(0.3)) target.type = random.int(16);
    if (random.chance(0.3)) target.name = random.pick(ATTRIBUTE_NAMES);
    if (random.chance(0.2)) target.refAttrName = 'ref';
    return target.name;
  },
  cycle: ({ graphs }, random) => {
    const target = random.pick(graphs);
    if (!target || target.node.length === 0) return undefined;
    target.node = random.chance(0.5) ? [...target.node, ...target.node] : [...target.node].reverse();
    const first = target.node[0];
    first.input = [...(first.input ?? []), random.pick(target.node[target.node.length - 1].output ?? []) ?? 'last'];
    return target.name;
  },
  shapeDim: ({ dims }, random) => {
    const target = random.pick(dims);
    if (!target) return undefined;
    if (random.chance(0.7)) target.dimValue = hostileLong(random);
    else target.dimParam = '\u2028"\n<>';
    return 'shape';
  },
  rename: ({ tensors }, random) => {
    const target = random.pick(tensors);
    if (!target) return undefined;
    target.name = random.chance(0.5) ? '' : random.pick(tensors).name;
    return target.name;
  },
};

function mutateFields(decoded: onnx.ModelProto, random: Random): string {
  const kind = random.pick(Object.keys(FIELD_MUTATIONS));
  const target = FIELD_MUTATIONS[kind](partsOf(decoded), random);
  return `${kind}(${JSON.stringify(target ?? null)})`;
}

// ---- Hand-built hostile models, one way of lying each ----

/** Appends protobuf field bytes: tag then payload. */
export function lengthDelimited(fieldNumber: number, payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.from([...varint((fieldNumber << 3) | 2), ...varint(payload.length)]), payload);
}

export function varint(value: number): number[] {
  const out: number[] = [];
  for (; value >= 0x80; value = Math.floor(value / 128)) out.push((value & 0x7f) | 0x80);
  return [...out, value];
}

const matmulModel = (initializers: onnx.ITensorProto[], sparseInitializers: onnx.ISparseTensorProto[] = []) =>
  encode(model(graph({ nodes: [node('MatMul', ['x', initializers[0]?.name ?? sparseInitializers[0].values!.name!], ['y'], [], 'mm')], initializers, sparseInitializers })));

/** A float tensor declaring `dims` while holding four floats. */
export function shapeWithTinyData(name: string, dims: (number | bigint)[]): Uint8Array {
  return matmulModel([onnx.TensorProto.create({ name, dataType: DataType.FLOAT, dims: dims.map(toLong), rawData: new Uint8Array(16) })]);
}

/** A sparse weight whose dense shape is `dims`, with three values. */
export function sparseWithDenseShape(name: string, dims: (number | bigint)[]): Uint8Array {
  return matmulModel([], [{ values: floatTensor(name, [3], [1, 2, 3]), indices: int64Tensor(`${name}_idx`, [3], [0, 1, 2]), dims: dims.map(toLong) }]);
}

/** A float tensor of four elements stored in `rawBytes` bytes. */
export function rawLengthMismatch(name: string, rawBytes: number): Uint8Array {
  return matmulModel([rawTensor(name, DataType.FLOAT, [2, 2], new Uint8Array(rawBytes))]);
}

/** A model cut `fromEnd` bytes before its end, inside its one initializer's 4000 bytes. */
export function truncatedInsideTensor(fromEnd: number): Uint8Array {
  const bytes = matmulModel([floatTensor('W', [1000], randomFloats(1000, 7))]);
  return bytes.subarray(0, bytes.length - fromEnd);
}

/** A TensorProto whose name (field 8, a string) arrives as a varint; returns the bytes and the offset of that field. */
export function wrongWireType(): { bytes: Uint8Array; offset: number } {
  const tensor = Uint8Array.from([(8 << 3) | 0, 42]);
  const graphBytes = lengthDelimited(5, tensor);
  const bytes = lengthDelimited(7, graphBytes);
  return { bytes, offset: bytes.length - tensor.length };
}

/** A chain of `depth` If nodes, each inside the previous one's then_branch, written by hand (protobufjs will not encode past its limit). */
export function nestedIfs(depth: number): Uint8Array {
  let graphBytes = onnx.GraphProto.encode(graph({ name: 'leaf', nodes: [node('MatMul', ['x', 'W'], ['y'], [], 'leaf_mm')], initializers: [floatTensor('W', [2, 2], [1, 2, 3, 4])] })).finish();
  for (let level = 0; level < depth; level++) {
    const attribute = concat(lengthDelimited(1, new TextEncoder().encode('then_branch')), Uint8Array.of(...varint(20 << 3), 5), lengthDelimited(6, graphBytes));
    const ifNode = concat(lengthDelimited(1, new TextEncoder().encode('c')), lengthDelimited(4, new TextEncoder().encode('If')), lengthDelimited(5, attribute));
    graphBytes = lengthDelimited(1, ifNode);
  }
  const opset = lengthDelimited(8, Uint8Array.of((2 << 3) | 0, 17));
  return concat(Uint8Array.of((1 << 3) | 0, 8), opset, lengthDelimited(7, graphBytes));
}

/** `count` Add nodes in a chain, each also adding the one weight W. */
export function manyNodes(count: number): Uint8Array {
  const nodes = Array.from({ length: count }, (_, i) => onnx.NodeProto.create({ opType: 'Add', input: [`t${i}`, 'W'], output: [`t${i + 1}`] }));
  return encode(model(graph({ nodes, inputs: [valueInfo('t0', DataType.FLOAT, [2])], initializers: [floatTensor('W', [2], [1, 2])] })));
}

/** `count` Constant nodes, each a weight of its own. */
export function manyConstants(count: number): Uint8Array {
  const nodes = Array.from({ length: count }, (_, i) => onnx.NodeProto.create({ opType: 'Constant', output: [`c${i}`], attribute: [attr.float('value_float', i)] }));
  return encode(model(graph({ nodes })));
}

/** Names that are not UTF-8: every "\x01\x01\x01\x01" placeholder in the encoding becomes bytes no decoder accepts. */
export function nonUtf8Names(): Uint8Array {
  const placeholder = '\x01\x01\x01\x01';
  const m = model(graph({
    name: placeholder,
    nodes: [node('MatMul', ['x', `W${placeholder}`], ['y'], [attr.string('note', placeholder)], placeholder)],
    initializers: [
      floatTensor(`W${placeholder}`, [2], [1, 2]),
      onnx.TensorProto.create({ name: 'S', dataType: DataType.STRING, dims: [toLong(1)], stringData: [new TextEncoder().encode(placeholder)] }),
    ],
  }));
  m.producerName = placeholder;
  const bytes = encode(m);
  for (let i = 0; i + 4 <= bytes.length; i++) {
    if (bytes[i] === 1 && bytes[i + 1] === 1 && bytes[i + 2] === 1 && bytes[i + 3] === 1) bytes.set([0xff, 0xc0, 0xed, 0xa0], i);
  }
  return bytes;
}

/** Two initializers named W, two nodes of the same name writing the same output, and a node output reused as an input name. */
export function duplicateNames(): Uint8Array {
  return encode(model(graph({
    nodes: [node('MatMul', ['x', 'W'], ['y'], [], 'same'), node('Gemm', ['x', 'W'], ['y'], [], 'same'), node('Conv', ['y', 'W'], ['x'], [], '')],
    inputs: [valueInfo('x', DataType.FLOAT, [2, 2]), valueInfo('x', DataType.FLOAT, [3])],
    initializers: [floatTensor('W', [2, 2], [1, 2, 3, 4]), floatTensor('W', [3], [5, 6, 7])],
  })));
}

/** Inputs nothing defines, a DequantizeLinear whose scale is nowhere, outputs nothing produces, a subgraph naming outer values that do not exist. */
export function danglingNames(): Uint8Array {
  const body = graph({ name: 'body', nodes: [node('MatMul', ['ghost', 'W'], ['b'], [], 'inner')] });
  return encode(model(graph({
    nodes: [
      node('MatMul', ['nowhere', 'W'], ['y'], [], 'mm'),
      node('DequantizeLinear', ['Q', 'missing_scale'], ['Q_real'], [], 'dq'),
      node('Gemm', ['y', 'Q_real', 'missing_bias'], ['z'], [], 'gemm'),
      node('If', ['no_cond'], ['w'], [attr.graph('then_branch', body)], 'if'),
    ],
    outputs: [valueInfo('never_made', DataType.FLOAT, [])],
    initializers: [floatTensor('W', [2, 2], [1, 2, 3, 4]), rawTensor('Q', DataType.INT8, [2, 2], new Uint8Array(4))],
  })));
}

/** y = MatMul(z, W), z = Mul(y, W2): a cycle through two layers. */
export function cyclicGraph(): Uint8Array {
  return encode(model(graph({
    nodes: [node('MatMul', ['z', 'W'], ['y'], [], 'a'), node('Mul', ['y', 'W2'], ['z'], [], 'b'), node('Identity', ['self'], ['self'], [], 'loop_on_itself')],
    initializers: [floatTensor('W', [2, 2], [1, 2, 3, 4]), floatTensor('W2', [2], [1, 2])],
  })));
}

/** A DequantizeLinear per-channel along an axis the weight does not have. */
export function dequantizeAxisOutOfRange(axis: number): Uint8Array {
  return encode(model(graph({
    nodes: [node('DequantizeLinear', ['Q', 'Q_scale'], ['Q_real'], [attr.int('axis', axis)], 'dq_bad_axis'), node('MatMul', ['x', 'Q_real'], ['y'], [], 'mm')],
    initializers: [rawTensor('Q', DataType.INT8, [2, 3], new Uint8Array(6)), floatTensor('Q_scale', [3], [1, 2, 3])],
  })));
}

/** A tensor of a data type code ONNX does not define. */
export function undefinedDataType(code: number): Uint8Array {
  return matmulModel([rawTensor('W', code, [2], new Uint8Array(8))]);
}
