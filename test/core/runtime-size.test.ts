/** Size figures: the model with its external data, and per layer, raw and gzip. */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { compareModels, compareSizes, LayerSize, measureSize, onnx, OnnxModel, OrtRuntime } from '../../src/core';
import { toLong } from '../../src/core/onnx/int64';
import { DataType, encode, floatTensor, graph, model, node, randomFloats, rawTensor, valueInfo } from '../support/model-builder';
import { writeTemporary } from './runtime-models';

const SIZE = 32;

describe('runtime size', () => {
  let folder: string;
  let modelPath: string;
  const external = new Uint8Array(randomFloats(SIZE * SIZE, 1).buffer);
  const bias = randomFloats(SIZE, 2);
  const quantized = new Int8Array(SIZE * SIZE).map((_, i) => (i * 7) % 255 - 127);

  before(async () => {
    const externalWeight = onnx.TensorProto.create({
      name: 'w_external', dataType: DataType.FLOAT, dims: [SIZE, SIZE].map(toLong), dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: String(external.byteLength) }],
    });
    const bytes = encode(model(graph({
      nodes: [
        node('MatMul', ['x', 'w_external'], ['a'], [], 'matmul_external'),
        node('Add', ['a', 'bias'], ['b'], [], 'add_bias'),
        node('DequantizeLinear', ['w_int8', 'scale', 'zero_point'], ['w_dequantized'], [], 'dequantize'),
        node('MatMul', ['b', 'w_dequantized'], ['c'], [], 'matmul_int8'),
        node('MatMul', ['c', 'w_external'], ['y'], [], 'matmul_shared'),
      ],
      initializers: [
        externalWeight, floatTensor('bias', [SIZE], bias),
        rawTensor('w_int8', DataType.INT8, [SIZE, SIZE], new Uint8Array(quantized.buffer)),
        floatTensor('scale', [], [0.01]), rawTensor('zero_point', DataType.INT8, [], Uint8Array.of(0)),
      ],
      inputs: [valueInfo('x', DataType.FLOAT, [1, SIZE])],
      outputs: [valueInfo('y', DataType.FLOAT, [1, SIZE])],
    })));
    ({ folder, paths: { 'model.onnx': modelPath } } = await writeTemporary({ 'model.onnx': bytes, 'weights.bin': external }));
  });

  after(() => fs.rm(folder, { recursive: true, force: true }));

  it('counts the model file and its external data, raw and gzipped, and each layer\'s weights', async () => {
    const opened = await OnnxModel.open(modelPath);
    const size = await measureSize(opened, opened.bytes);
    const fileBytes = await fs.readFile(modelPath);
    assert.deepEqual(size.total, {
      raw: fileBytes.byteLength + (await fs.stat(path.join(folder, 'weights.bin'))).size,
      gzip: gzipSync(fileBytes).byteLength + gzipSync(external).byteLength,
    });
    assert.equal(size.externalFiles, 1);
    const int8Layer = Buffer.concat([new Uint8Array(quantized.buffer), new Uint8Array(Float32Array.of(0.01).buffer), Uint8Array.of(0)]);
    const expected: LayerSize[] = [
      { layer: 'matmul_external', opType: 'MatMul', raw: external.byteLength, gzip: gzipSync(external).byteLength },
      { layer: 'matmul_shared', opType: 'MatMul', raw: external.byteLength, gzip: gzipSync(external).byteLength },
      { layer: 'add_bias', opType: 'Add', raw: SIZE * 4, gzip: gzipSync(new Uint8Array(bias.buffer)).byteLength },
      // A quantized weight brings its scale and zero point along.
      { layer: 'matmul_int8', opType: 'MatMul', raw: SIZE * SIZE + 4 + 1, gzip: gzipSync(int8Layer).byteLength },
    ];
    const byName = (layers: LayerSize[]) => [...layers].sort((a, b) => a.layer.localeCompare(b.layer));
    assert.deepEqual(byName(size.layers), byName(expected));
  });

  it('runs a model with external data through ONNX Runtime, which finds the data next to the file', async function () {
    this.timeout(30_000);
    const runtime = new OrtRuntime();
    try {
      const report = await compareModels(runtime, { path: modelPath }, { path: modelPath }, { rounds: 0 });
      assert.deepEqual(report.size.after.total, report.size.before.total);
      assert.deepEqual(report.outputs.map((output) => [output.name, output.identical, output.dims]), [['y', true, [1, SIZE]]]);
    } finally {
      runtime.dispose();
    }
  });

  it('pairs layers by name, keeping those only one model has', () => {
    const layer = (name: string, raw: number): LayerSize => ({ layer: name, opType: 'MatMul', raw, gzip: raw / 2 });
    const before = { total: { raw: 10, gzip: 5 }, externalFiles: 0, layers: [layer('kept', 100), layer('replaced', 50)] };
    const after = { total: { raw: 8, gzip: 4 }, externalFiles: 0, layers: [layer('kept', 25), layer('replaced_quant', 13)] };
    assert.deepEqual(compareSizes(before, after).layers, [
      { layer: 'kept', before: layer('kept', 100), after: layer('kept', 25) },
      { layer: 'replaced', before: layer('replaced', 50), after: undefined },
      { layer: 'replaced_quant', after: layer('replaced_quant', 13) },
    ]);
  });
});
