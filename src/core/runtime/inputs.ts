/**
 * The inputs a measurement feeds: real ones from files, or synthesised from
 * the model's declared input types and shapes. The same sets go through both
 * models of a comparison.
 */
import { InvalidArgumentError, quote } from '../errors';
import { describeType } from '../model/overview';
import { int64ToSafeNumber } from '../onnx/int64';
import { onnx } from '../proto';
import { dataTypeName } from '../tensor/dtypes';
import { floatToFloat16Bits } from '../quant/quantize-math';
import { FileInput, readInputFolder } from './input-files';
import { ElementType, NamedTensor, TensorData } from './protocol';
import { seededRandom } from './random';

export interface InputOptions {
  /** Shapes by input name. They also fix the symbolic dimensions they share with other inputs ("batch"...). */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  /** A value every element of the named input takes: a sample rate, a length, a flag. */
  readonly values?: Readonly<Record<string, number>>;
  /**
   * A folder of real inputs: .pb (serialized TensorProto) or .npy files named
   * after the inputs (or input_<i>, or a .pb whose tensor has the input's name);
   * or subfolders of such files, one input set each. Inputs without a file are synthesised.
   */
  readonly folder?: string;
  /** Input sets to synthesise when no folder is given. */
  readonly samples?: number;
  /** The size of a symbolic or unknown dimension that no shape fixes. */
  readonly defaultDimension?: number;
  readonly seed?: number;
}

export const DEFAULT_SAMPLES = 3;
export const DEFAULT_DIMENSION = 1;

/** A graph input as declared: sizes, symbolic names, null for unknown; `dims` is undefined when no shape is declared. */
export interface InputSpec {
  readonly name: string;
  readonly type: ElementType;
  readonly dims?: readonly (number | string | null)[];
}

export type InputOrigin =
  | { readonly kind: 'synthesised' }
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'file'; readonly file: string };

/** One input as fed in the first set. */
export interface PreparedInput {
  readonly name: string;
  readonly type: ElementType;
  readonly dims: readonly number[];
  readonly origin: InputOrigin;
}

export interface PreparedInputs {
  /** One feed list per input set. */
  readonly sets: NamedTensor[][];
  readonly inputs: PreparedInput[];
}

const FEEDABLE: ReadonlySet<string> = new Set<ElementType>([
  'float32', 'float64', 'float16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'string',
]);

/** The inputs a caller feeds: graph inputs that no initializer provides (before IR 4, initializers were listed as inputs too). */
export function inputSpecs(model: onnx.IModelProto, modelName: string): InputSpec[] {
  const graph = model.graph ?? {};
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  return (graph.input ?? []).filter((input) => !initializers.has(input.name)).map((input) => {
    const tensorType = input.type?.tensorType;
    const type = dataTypeName(tensorType?.elemType ?? 0);
    if (!tensorType || !FEEDABLE.has(type)) {
      throw new InvalidArgumentError(`Input ${quote(input.name)} of ${quote(modelName)} is ${describeType(input.type ?? undefined)}, which ONNX Runtime for Node cannot be fed.`);
    }
    const dims = tensorType.shape ? (tensorType.shape.dim ?? []).map(declaredDim) : undefined;
    return { name: input.name ?? '', type: type as ElementType, dims };
  });
}

function declaredDim(dim: onnx.TensorShapeProto.IDimension): number | string | null {
  if (dim.dimValue !== undefined && dim.dimValue !== null) return int64ToSafeNumber(dim.dimValue) ?? null;
  return dim.dimParam || null;
}

export async function prepareInputs(specs: readonly InputSpec[], modelName: string, options: InputOptions = {}): Promise<PreparedInputs> {
  checkNamedInputs(specs, modelName, options);
  const samples = options.samples ?? DEFAULT_SAMPLES;
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`options.samples must be a whole number of at least 1, not ${samples}.`);
  const fileSets = options.folder ? await readInputFolder(options.folder, specs) : Array.from({ length: samples }, () => new Map<string, FileInput>());
  const shapeOf = shapeResolver(specs, modelName, options);
  const seed = options.seed ?? 0;
  const prepared = fileSets.map((files, setIndex) => {
    const random = seededRandom(seed + setIndex);
    return specs.map((spec) => {
      const file = files.get(spec.name);
      if (file) return { tensor: file.tensor, origin: { kind: 'file', file: file.file } as const };
      return synthesised(spec, shapeOf(spec), options.values?.[spec.name], random);
    });
  });
  return {
    sets: prepared.map((set) => set.map((input) => input.tensor)),
    inputs: prepared[0].map(({ tensor, origin }) => ({ name: tensor.name, type: tensor.type, dims: tensor.dims, origin })),
  };
}

function checkNamedInputs(specs: readonly InputSpec[], modelName: string, options: InputOptions): void {
  const known = new Set(specs.map((spec) => spec.name));
  for (const name of [...Object.keys(options.shapes ?? {}), ...Object.keys(options.values ?? {})]) {
    if (!known.has(name)) {
      throw new InvalidArgumentError(`${quote(modelName)} has no input ${quote(name)}; its inputs are ${specs.map((spec) => quote(spec.name)).join(', ') || 'none'}.`);
    }
  }
}

/**
 * The shape an input is synthesised with: the caller's, else the declared
 * one with symbolic dimensions taken from the caller's shapes of other inputs
 * that share the name, else the default. Given shapes are checked at once;
 * an input without a shape is a problem only if it has to be synthesised.
 */
function shapeResolver(specs: readonly InputSpec[], modelName: string, options: InputOptions): (spec: InputSpec) => number[] {
  const defaultDimension = options.defaultDimension ?? DEFAULT_DIMENSION;
  if (!Number.isInteger(defaultDimension) || defaultDimension < 0) {
    throw new RangeError(`options.defaultDimension must be a whole number, not ${defaultDimension}.`);
  }
  const symbols = new Map<string, number>();
  for (const spec of specs) {
    const given = options.shapes?.[spec.name];
    if (!given) continue;
    checkGivenShape(spec, modelName, given);
    spec.dims?.forEach((dim, axis) => {
      if (typeof dim === 'string' && !symbols.has(dim)) symbols.set(dim, given[axis]);
    });
  }
  return (spec) => {
    const given = options.shapes?.[spec.name];
    if (given) return [...given];
    if (!spec.dims) {
      throw new InvalidArgumentError(`Input ${quote(spec.name)} of ${quote(modelName)} declares no shape, so it needs one given for it.`);
    }
    return spec.dims.map((dim) => sizeOf(dim, symbols, defaultDimension));
  };
}

function sizeOf(dim: number | string | null, symbols: ReadonlyMap<string, number>, defaultDimension: number): number {
  if (typeof dim === 'number') return dim;
  return (dim === null ? undefined : symbols.get(dim)) ?? defaultDimension;
}

function checkGivenShape(spec: InputSpec, modelName: string, given: readonly number[]): void {
  if (given.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) {
    throw new InvalidArgumentError(`The shape [${given.join(',')}] given for input ${quote(spec.name)} is not a list of sizes.`);
  }
  if (spec.dims && spec.dims.length !== given.length) {
    throw new InvalidArgumentError(
      `Input ${quote(spec.name)} of ${quote(modelName)} has ${spec.dims.length} dimensions ([${spec.dims.map((dim) => dim ?? '?').join(',')}]), but the shape given has ${given.length}.`);
  }
}

/**
 * Floats are uniform in [-1, 1). Integers are 0 or 1, valid as an index into
 * any axis, a mask or a flag; integer scalars are 1, as they are usually
 * counts, sizes or steps, for which 0 is rarely valid.
 */
function synthesised(spec: InputSpec, dims: readonly number[], constant: number | undefined, random: () => number): { tensor: NamedTensor; origin: InputOrigin } {
  const count = dims.reduce((a, b) => a * b, 1);
  if (constant !== undefined) {
    return { tensor: { name: spec.name, type: spec.type, dims, data: constantData(spec, count, constant) }, origin: { kind: 'constant', value: constant } };
  }
  const isFloat = spec.type.startsWith('float');
  const valueAt = isFloat ? () => random() * 2 - 1 : dims.length === 0 ? () => 1 : () => (random() < 0.5 ? 0 : 1);
  return { tensor: { name: spec.name, type: spec.type, dims, data: tensorData(spec.type, count, valueAt) }, origin: { kind: 'synthesised' } };
}

function constantData(spec: InputSpec, count: number, value: number): TensorData {
  if (!spec.type.startsWith('float') && spec.type !== 'string' && !Number.isInteger(value)) {
    throw new InvalidArgumentError(`Input ${quote(spec.name)} is ${spec.type}, so the value given for it must be a whole number, not ${value}.`);
  }
  return tensorData(spec.type, count, () => value);
}

type NumericArray = Float32ArrayConstructor | Float64ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor
  | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor;

const NUMERIC_ARRAYS: Readonly<Partial<Record<ElementType, NumericArray>>> = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array,
  uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, bool: Uint8Array,
};

/** Values in the form onnxruntime-node takes: float16 as bit patterns, 64-bit integers as bigints. */
export function tensorData(type: ElementType, count: number, valueAt: (index: number) => number): TensorData {
  const values = Array.from({ length: count }, (_, index) => valueAt(index));
  switch (type) {
    case 'float16': return Uint16Array.from(values, floatToFloat16Bits);
    case 'int64': return BigInt64Array.from(values, (value) => BigInt(value));
    case 'uint64': return BigUint64Array.from(values, (value) => BigInt(value));
    case 'string': return values.map(String);
    default: return NUMERIC_ARRAYS[type]!.from(values);
  }
}
