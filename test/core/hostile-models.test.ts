/**
 * One hostile construction per test, opened the whole way (openFully): each
 * ends in the typed error that names what is wrong and where, or, when the
 * model is merely odd, in a successful open.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { analyzeModel, ModelFormatError, OnnxLensError, TensorDataError } from '../../src/core';
import { MAX_DENSE_ELEMENTS } from '../../src/core/analysis/real-values';
import { REAL_MODELS } from '../support/fixtures';
import {
  cyclicGraph, danglingNames, dequantizeAxisOutOfRange, duplicateNames, kitchenSinkModel, manyConstants, manyNodes, nestedIfs, nonUtf8Names,
  rawLengthMismatch, shapeWithTinyData, sparseWithDenseShape, truncatedInsideTensor, undefinedDataType, wrongWireType,
} from '../support/hostile-models';
import { encode, floatTensor, graph, model, node } from '../support/model-builder';
import { openFully, OpenReport } from '../support/open-fully';

/** Asserts that opening `bytes` fails with `errorClass` and a message matching `message`; returns the error. */
async function assertRefused<E extends OnnxLensError>(bytes: Uint8Array, errorClass: new (...args: never[]) => E, message: RegExp): Promise<E> {
  let caught: unknown;
  await openFully(bytes).catch((error: unknown) => (caught = error));
  assert.ok(caught instanceof errorClass, `expected ${errorClass.name}, got ${String(caught)}`);
  assert.match(caught.message, message);
  assert.match(caught.message, /\.$/);
  return caught;
}

/** The typed errors of single weights, as "ClassName: message". */
const weightErrorsOf = (report: OpenReport) => report.weightErrors.map((error) => `${error.name}: ${error.message}`);

/** Opens every prefix of `bytes` at `cuts`: each must fail with a ModelFormatError naming a byte offset, or open (a cut between fields). */
async function assertEveryCutIsTyped(bytes: Uint8Array, cuts: number[]): Promise<{ refused: number; opened: number }> {
  const counts = { refused: 0, opened: 0 };
  for (const cut of cuts) {
    try {
      await openFully(bytes.subarray(0, cut));
      counts.opened++;
    } catch (error) {
      assert.ok(error instanceof ModelFormatError || error instanceof TensorDataError, `cut at ${cut}: ${String(error)}`);
      if (error instanceof ModelFormatError) assert.match(error.message, /byte offset \d+/, `cut at ${cut}`);
      counts.refused++;
    }
  }
  return counts;
}

describe('hostile models', () => {
  describe('truncated or corrupt bytes', () => {
    it('refuses the kitchen-sink model cut at every byte offset with a typed error naming the offset', async () => {
      const bytes = encode(kitchenSinkModel());
      const counts = await assertEveryCutIsTyped(bytes, Array.from({ length: bytes.length }, (_, cut) => cut));
      assert.ok(counts.refused > bytes.length * 0.9, `${counts.refused} of ${bytes.length} cuts refused`);
    });

    it('refuses a real model cut at 400 offsets spread over the file', async () => {
      const bytes = new Uint8Array(readFileSync(REAL_MODELS.helloDeepa));
      const cuts = Array.from({ length: 400 }, (_, i) => Math.floor(((i + 1) * bytes.length) / 401));
      const counts = await assertEveryCutIsTyped(bytes, cuts);
      assert.ok(counts.refused > 350, `${counts.refused} of 400 cuts refused`);
    });

    it('names the offset where a cut inside a tensor runs past the end', async () => {
      const bytes = truncatedInsideTensor(100);
      const error = await assertRefused(bytes, ModelFormatError, /runs past the end of the \d+-byte file \(truncated or corrupt\)/);
      assert.ok(error.byteOffset !== undefined && error.byteOffset < bytes.length, `offset ${error.byteOffset}`);
      assert.match(error.message, new RegExp(`byte offset ${error.byteOffset} `));
    });

    it('names the field, message type and offset of a known field with the wrong wire type', async () => {
      const { bytes, offset } = wrongWireType();
      const error = await assertRefused(bytes, ModelFormatError, new RegExp(`field 8 of TensorProto at byte offset ${offset} has wire type 0`));
      assert.equal(error.byteOffset, offset);
    });
  });

  describe('shapes that do not match their data', () => {
    it('refuses 10^12 declared elements with four floats of data, naming the tensor', async () => {
      const error = await assertRefused(shapeWithTinyData('huge.weight', [1_000_000, 1_000_000]), TensorDataError,
        /Tensor "huge.weight" \(float32\[1000000,1000000\]\) should hold 4000000000000 bytes, but holds 16/);
      assert.equal(error.tensorName, 'huge.weight');
    });

    it('refuses a negative dimension, naming the tensor and axis', async () => {
      await assertRefused(shapeWithTinyData('neg', [4, -3]), TensorDataError, /Tensor "neg" has dimension -3 on axis 1, which is not a valid size/);
    });

    it('refuses dimensions beyond 2^53 and at the int64 limits, which no double holds exactly', async () => {
      await assertRefused(shapeWithTinyData('big', [2n ** 53n + 1n]), TensorDataError, /Tensor "big" has dimension 9007199254740993 on axis 0/);
      await assertRefused(shapeWithTinyData('max', [1, 2n ** 63n - 1n]), TensorDataError, /Tensor "max" has dimension 9223372036854775807 on axis 1/);
      await assertRefused(shapeWithTinyData('min', [-(2n ** 63n)]), TensorDataError, /Tensor "min" has dimension -9223372036854775808 on axis 0/);
    });

    it('refuses dimensions whose product overflows, naming the tensor', async () => {
      await assertRefused(shapeWithTinyData('product', [2 ** 31, 2 ** 31, 2 ** 31]), TensorDataError,
        /Tensor "product" declares shape \[2147483648,2147483648,2147483648\], too many elements to address/);
    });

    it('refuses raw data shorter or longer than the shape, naming the tensor and both lengths', async () => {
      await assertRefused(rawLengthMismatch('short', 12), TensorDataError, /Tensor "short" \(float32\[2,2\]\) should hold 16 bytes, but holds 12/);
      await assertRefused(rawLengthMismatch('long', 20), TensorDataError, /Tensor "long" \(float32\[2,2\]\) should hold 16 bytes, but holds 20/);
    });

    it('refuses a data type ONNX does not define, naming the tensor and the code', async () => {
      await assertRefused(undefinedDataType(99), TensorDataError, /Tensor "W" has data type 99, which ONNX does not define/);
    });

    it('opens a sparse weight with a dense shape of 10^12 elements, refusing only its analysis', async () => {
      const report = await openFully(sparseWithDenseShape('sparse.weight', [1_000_000, 1_000_000]));
      assert.deepEqual(weightErrorsOf(report), [
        `TensorDataError: Sparse weight "sparse.weight" declares dense shape [1000000,1000000], 1000000000000 elements, more than the ${MAX_DENSE_ELEMENTS} its analysis can hold.`,
      ]);
    });

    it('opens a sparse weight with a negative dense dimension, refusing only its analysis', async () => {
      const report = await openFully(sparseWithDenseShape('sparse.neg', [4, -4]));
      assert.deepEqual(weightErrorsOf(report), ['TensorDataError: Sparse weight "sparse.neg" declares dense shape [4,-4], which is not a valid shape.']);
    });

    it('opens a DequantizeLinear whose axis the weight does not have, refusing only that weight\'s analysis', async () => {
      const report = await openFully(dequantizeAxisOutOfRange(7));
      assert.deepEqual(weightErrorsOf(report), ['TensorDataError: DequantizeLinear "dq_bad_axis" has axis 7, outside "Q" [2,3].']);
    });

    it('analyzes an LSTM weight of a rank its op does not expect with the default axes', async () => {
      const report = await openFully(encode(model(graph({
        nodes: [node('LSTM', ['x', 'W', 'R'], ['y'], [], 'lstm')],
        initializers: [floatTensor('W', [8, 4], new Float32Array(32).fill(0.5)), floatTensor('R', [8, 2], new Float32Array(16).fill(-0.5))],
      }))));
      assert.deepEqual(weightErrorsOf(report), []);
    });
  });

  describe('structure', () => {
    it('refuses subgraphs nested 5000 deep with a typed error naming the offset, quickly', async function () {
      this.timeout(30_000);
      await assertRefused(nestedIfs(5000), ModelFormatError, /messages are nested deeper than 100 levels near byte offset \d+/);
    });

    it('opens If bodies nested 30 deep and finds the weight at the bottom', async () => {
      const report = await openFully(nestedIfs(30));
      const [weight] = report.model.weights();
      assert.equal(weight.scope.split('/').length, 31);
      assert.equal(weight.uses[0].node.label, 'leaf_mm');
      assert.equal(report.model.overview().subgraphCount, 30);
    });

    describe('a million nodes sharing one weight', function () {
      this.timeout(120_000);
      let report: OpenReport | undefined;

      before(async () => {
        report = await openFully(manyNodes(1_000_000));
      });

      after(() => (report = undefined));

      it('open, with the overview, a layer per node and every text line', () => {
        assert.equal(report!.model.overview().nodeCount, 1_000_000);
        assert.equal(report!.model.weights()[0].uses.length, 1_000_000);
        assert.equal(report!.model.layers().length, 1_000_000);
        assert.ok(report!.textLines > 1_000_000, `${report!.textLines} text lines`);
      });

      it('are analyzed in linear time: the weight once, completing every layer', async function () {
        // Quadratic bookkeeping took a minute for 60,000 nodes; linear takes seconds for a million.
        this.timeout(30_000);
        let completed = 0;
        const analysis = await analyzeModel(report!.model, { workers: 1, onProgress: (progress) => (completed += progress.completedLayers.length) });
        assert.equal(analysis.analyzedWeights, 1);
        assert.equal(completed, 1_000_000);
      });
    });

    it('opens two hundred thousand Constant nodes, each a weight read and analyzed', async function () {
      this.timeout(120_000);
      const report = await openFully(manyConstants(200_000));
      assert.equal(report.model.weights().length, 200_000);
      assert.deepEqual(weightErrorsOf(report), []);
    });
  });

  describe('odd but readable models open', () => {
    it('names that are not UTF-8', async () => {
      const report = await openFully(nonUtf8Names());
      assert.deepEqual(weightErrorsOf(report), []);
      const [weight, strings] = report.model.weights();
      assert.ok(weight.name.startsWith('W') && weight.name.length > 1, JSON.stringify(weight.name));
      assert.deepEqual(weight.uses.map((use) => use.node.opType), ['MatMul']);
      // String tensors are bytes: the invalid sequence comes back as it was written.
      assert.deepEqual(Array.from((await strings.tensor.values())[0] as Uint8Array), [0xff, 0xc0, 0xed, 0xa0]);
    });

    it('duplicate initializer, node and input names', async () => {
      const report = await openFully(duplicateNames());
      assert.deepEqual(report.model.layers().map((layer) => layer.node.label), ['same', 'same', 'Conv#2']);
      assert.deepEqual(weightErrorsOf(report), []);
    });

    it('dangling names: undefined inputs, a DequantizeLinear without its scale, outputs nothing makes', async () => {
      const report = await openFully(danglingNames());
      assert.deepEqual(report.model.layers().map((layer) => `${layer.node.label}:${layer.weights.map((entry) => entry.weight.name)}`), ['mm:W', 'inner:W', 'gemm:Q']);
      assert.deepEqual(weightErrorsOf(report), []);
    });

    it('a graph with cycles', async () => {
      const report = await openFully(cyclicGraph());
      assert.deepEqual(report.model.layers().map((layer) => layer.node.label), ['a', 'b']);
      assert.equal(report.model.overview().nodeCount, 3);
    });
  });
});
