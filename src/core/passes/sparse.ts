import { OnnxModel } from '../model/onnx-model';
import { quote } from '../errors';
import { WeightInfo } from '../model/weights';
import { toLong } from '../onnx/int64';
import { onnx } from '../proto';
import { attribute, makeNode } from './nodes';
import { ModelRewriter } from './rewriter';
import { PassRun, SkipWeight } from './run';
import { denseFloats, tensors } from './tensors';
import { PassOptions, PassResult } from './types';

/** A stored non-zero costs its float32 value and its int64 index (ONNX's checker accepts only int64 indices). */
const BYTES_PER_NON_ZERO = 4 + 8;

export interface SparseForm {
  readonly values: Float32Array;
  readonly indices: number[];
  readonly bytes: number;
}

/** The non-zeros and their linear indices, when storing them takes fewer bytes than the dense values. */
export function smallerSparseForm(dense: Float32Array): SparseForm | undefined {
  let nonZeros = 0;
  for (let i = 0; i < dense.length; i++) if (dense[i] !== 0) nonZeros++;
  if (nonZeros * BYTES_PER_NON_ZERO >= dense.length * Float32Array.BYTES_PER_ELEMENT) return undefined;
  const values = new Float32Array(nonZeros);
  const indices: number[] = [];
  for (let i = 0; i < dense.length; i++) {
    if (dense[i] === 0) continue;
    values[indices.length] = dense[i];
    indices.push(i);
  }
  return { values, indices, bytes: nonZeros * BYTES_PER_NON_ZERO };
}

/**
 * Stores the weight as a Constant node with sparse_value (opset 11): its
 * output is a dense tensor, so consumers are unchanged; ONNX Runtime expands
 * it when the session loads and ONNX's checker accepts it (a sparse_initializer
 * feeding a dense input fails the checker's type inference).
 */
export function storeSparse(rewriter: ModelRewriter, weight: WeightInfo, form: SparseForm): void {
  const sparse = onnx.SparseTensorProto.create({
    values: tensors.float32('', [form.values.length], form.values),
    indices: tensors.int64('', [form.indices.length], form.indices),
    dims: weight.dims.map(toLong),
  });
  const node = makeNode('Constant', [], [weight.name], rewriter.uniqueName(`${weight.name}_sparse`), [attribute.sparseTensor('sparse_value', sparse)]);
  rewriter.redefineWeight(weight, [node]);
}

/** Sparse storage: each selected weight that is mostly zeros is stored as its non-zeros, where that is smaller. */
export async function storeWeightsSparse(model: OnnxModel, options: PassOptions = {}): Promise<PassResult> {
  const run = new PassRun('sparse-storage', model, options);
  await run.eachWeight(async ({ weight }) => {
    const dense = await denseFloats(weight);
    const form = smallerSparseForm(dense);
    if (!form) throw new SkipWeight(`Weight ${quote(weight.name)} has too few zeros for sparse storage (${BYTES_PER_NON_ZERO} bytes per non-zero) to be smaller.`);
    storeSparse(run.rewriter, weight, form);
    run.record(weight, {
      after: { dataType: 'float32 (sparse)', dims: weight.dims }, replacement: form.bytes, sqnrDb: null,
      scheme: `sparse: ${form.values.length} of ${dense.length} values stored`, sparsityAfter: 1 - form.values.length / dense.length,
    });
  });
  return run.finish();
}
