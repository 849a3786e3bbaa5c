/**
 * How far a changed model's outputs are from the original's on the same
 * inputs, per output, over every input set together.
 */
import { onnx } from '../proto';
import { float16BitsToNumber } from '../tensor/float-formats';
import { ElementType, NamedTensor, TensorData } from './protocol';

export interface OutputFidelity {
  readonly name: string;
  readonly type: ElementType;
  /** Shape in the first input set. */
  readonly dims: readonly number[];
  /** Values compared, over all input sets. */
  readonly elementCount: number;
  /** Bit for bit the same in every set. */
  readonly identical: boolean;
  /** Σab / (|a|·|b|); 1 when both are all zeros. */
  readonly cosineSimilarity: number;
  readonly maxAbsoluteError: number;
  /** |a − b| / |a| (L2 norms), a being the original's output. */
  readonly relativeL2Error: number;
  /** 10·log10(Σa² / Σ(a − b)²), as quant/quantize-math's sqnrDb; Infinity when identical. */
  readonly sqnrDb: number;
  /** For outputs that look like class scores: the share of rows (last axis) whose arg-max agrees. */
  readonly top1Agreement?: number;
  /** Why the outputs cannot be compared (other shapes or types, strings); the figures are then NaN. */
  readonly incomparable?: string;
}

/** Ops whose output is a distribution over classes. */
const CLASS_SCORE_OPS = new Set(['Softmax', 'LogSoftmax']);
const CLASS_SCORE_NAME = /logit|score|prob|class|label|pred/i;
const MAX_CLASSIFIER_RANK = 2;

/**
 * Whether an output looks like class scores: floats with at least two values
 * on the last axis, that a Softmax produces, or that are named like scores,
 * or that have the [batch, classes] shape of a classifier's head.
 */
export function classScoreTest(model: onnx.IModelProto): (output: NamedTensor) => boolean {
  const producers = new Map<string, string>();
  for (const node of model.graph?.node ?? []) for (const output of node.output ?? []) producers.set(output, node.opType ?? '');
  return (output) => {
    const classes = output.dims[output.dims.length - 1] ?? 0;
    if (!output.type.startsWith('float') || classes < 2) return false;
    return CLASS_SCORE_OPS.has(producers.get(output.name) ?? '') || CLASS_SCORE_NAME.test(output.name) || output.dims.length <= MAX_CLASSIFIER_RANK;
  };
}

/** `original[set]` and `changed[set]` are the two models' outputs for one input set. */
export function compareOutputs(
  original: readonly NamedTensor[][], changed: readonly NamedTensor[][], isClassScores: (output: NamedTensor) => boolean,
): OutputFidelity[] {
  return original[0].map((first) => {
    const pairs = original.map((outputs, set) => ({ a: outputs.find((o) => o.name === first.name)!, b: changed[set].find((o) => o.name === first.name) }));
    const why = pairs.map(({ a, b }) => incomparability(a, b)).find(Boolean);
    return why ? incomparable(first, why) : figures(first, pairs as { a: NamedTensor; b: NamedTensor }[], isClassScores(first));
  });
}

function incomparability(a: NamedTensor, b: NamedTensor | undefined): string | undefined {
  if (!b) return 'the changed model has no such output';
  if (a.type === 'string') return 'string outputs have no numeric distance';
  if (a.type !== b.type) return `its type changed from ${a.type} to ${b.type}`;
  if (a.dims.join(',') !== b.dims.join(',')) return `its shape changed from [${a.dims}] to [${b.dims}]`;
  return undefined;
}

function incomparable(output: NamedTensor, why: string): OutputFidelity {
  return {
    name: output.name, type: output.type, dims: output.dims, elementCount: 0, identical: false,
    cosineSimilarity: NaN, maxAbsoluteError: NaN, relativeL2Error: NaN, sqnrDb: NaN, incomparable: why,
  };
}

function figures(output: NamedTensor, pairs: { a: NamedTensor; b: NamedTensor }[], classScores: boolean): OutputFidelity {
  let dot = 0, normA = 0, normB = 0, errorSquared = 0, maxAbsoluteError = 0, count = 0, rows = 0, agreeingRows = 0;
  for (const { a, b } of pairs) {
    const x = numbers(a);
    const y = numbers(b);
    for (let i = 0; i < x.length; i++) {
      const error = x[i] - y[i];
      dot += x[i] * y[i];
      normA += x[i] * x[i];
      normB += y[i] * y[i];
      errorSquared += error * error;
      maxAbsoluteError = Math.max(maxAbsoluteError, Math.abs(error));
    }
    count += x.length;
    if (classScores) {
      const agreement = argMaxAgreement(x, y, a.dims[a.dims.length - 1]);
      rows += agreement.rows;
      agreeingRows += agreement.agreeing;
    }
  }
  return {
    name: output.name, type: output.type, dims: output.dims, elementCount: count,
    identical: pairs.every(({ a, b }) => sameBits(a.data, b.data)),
    cosineSimilarity: normA === 0 && normB === 0 ? 1 : dot / Math.sqrt(normA * normB),
    maxAbsoluteError,
    relativeL2Error: errorSquared === 0 ? 0 : Math.sqrt(errorSquared / normA),
    sqnrDb: errorSquared === 0 ? Infinity : 10 * Math.log10(normA / errorSquared),
    ...(classScores ? { top1Agreement: rows === 0 ? 1 : agreeingRows / rows } : {}),
  };
}

function argMaxAgreement(x: Float64Array, y: Float64Array, classes: number): { rows: number; agreeing: number } {
  const rows = classes > 0 ? x.length / classes : 0;
  let agreeing = 0;
  for (let row = 0; row < rows; row++) {
    if (argMax(x, row * classes, classes) === argMax(y, row * classes, classes)) agreeing++;
  }
  return { rows, agreeing };
}

function argMax(values: Float64Array, start: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[start + i] > values[start + best]) best = i;
  return best;
}

/** Float16 arrives as bit patterns, 64-bit integers as bigints. */
function numbers(tensor: NamedTensor): Float64Array {
  const data = tensor.data as Exclude<TensorData, string[]>;
  if (tensor.type === 'float16') return Float64Array.from(data as Uint16Array, float16BitsToNumber);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float64Array.from(data, Number);
  return Float64Array.from(data as ArrayLike<number>);
}

function sameBits(a: TensorData, b: TensorData): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
