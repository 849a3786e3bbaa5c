/** Inputs for measurements: synthesised from declared types and shapes, or read from .npy and .pb files. */
import { strict as assert } from 'node:assert';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { inputSpecs, InvalidArgumentError, NamedTensor, onnx, prepareInputs } from '../../src/core';
import { parseNpy } from '../../src/core/runtime/npy';
import { float16BitsToNumber } from '../../src/core/tensor/float-formats';
import { DataType, floatTensor, graph, model, node, valueInfo } from '../support/model-builder';
import { numpy, writeTemporary } from './runtime-models';

const NAME = 'inputs.onnx';

function unknownDims(name: string, elemType: number, rank: number): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: Array.from({ length: rank }, () => ({})) } } } };
}

/** Inputs of every kind the synthesis distinguishes; the graph itself is never run. */
const MODEL = model(graph({
  nodes: [node('Identity', ['audio'], ['out'])],
  inputs: [
    valueInfo('audio', DataType.FLOAT, ['batch', 'samples']),
    valueInfo('ids', DataType.INT64, ['batch', 4]),
    valueInfo('sr', DataType.INT64, []),
    valueInfo('mask', DataType.BOOL, [2]),
    unknownDims('half', DataType.FLOAT16, 1),
    // Before IR 4 initializers were listed as inputs too: not something to feed.
    valueInfo('weight', DataType.FLOAT, [1]),
  ],
  initializers: [floatTensor('weight', [1], [1])],
  outputs: [valueInfo('out', DataType.FLOAT, ['batch', 'samples'])],
}));

function byName(feeds: NamedTensor[]): Record<string, NamedTensor> {
  return Object.fromEntries(feeds.map((feed) => [feed.name, feed]));
}

describe('runtime inputs', () => {
  const specs = inputSpecs(MODEL, NAME);

  it('lists the inputs to feed with their declared dimensions', () => {
    assert.deepEqual(specs, [
      { name: 'audio', type: 'float32', dims: ['batch', 'samples'] },
      { name: 'ids', type: 'int64', dims: ['batch', 4] },
      { name: 'sr', type: 'int64', dims: [] },
      { name: 'mask', type: 'bool', dims: [2] },
      { name: 'half', type: 'float16', dims: [null] },
    ]);
  });

  it('synthesises floats in [-1, 1), integers 0 or 1, integer scalars 1, symbolic and unknown dimensions 1', async () => {
    const { sets, inputs } = await prepareInputs(specs, NAME);
    assert.equal(sets.length, 3);
    assert.deepEqual(inputs.map((input) => [input.name, input.dims, input.origin.kind]), [
      ['audio', [1, 1], 'synthesised'], ['ids', [1, 4], 'synthesised'], ['sr', [], 'synthesised'], ['mask', [2], 'synthesised'], ['half', [1], 'synthesised'],
    ]);
    for (const set of sets) {
      const feeds = byName(set);
      assert.ok(feeds.audio.data instanceof Float32Array && feeds.audio.data.every((v) => v >= -1 && v < 1));
      assert.ok(feeds.ids.data instanceof BigInt64Array && feeds.ids.data.every((v) => v === 0n || v === 1n));
      assert.deepEqual([...(feeds.sr.data as BigInt64Array)], [1n]);
      assert.ok(feeds.mask.data instanceof Uint8Array && feeds.mask.data.every((v) => v === 0 || v === 1));
      const half = float16BitsToNumber((feeds.half.data as Uint16Array)[0]);
      assert.ok(half >= -1 && half <= 1, `float16 input ${half}`);
    }
    assert.notDeepEqual(sets[0][0].data, sets[1][0].data, 'input sets should differ');
    assert.deepEqual((await prepareInputs(specs, NAME)).sets, sets, 'the same seed should give the same inputs');
  });

  it('takes shapes and values given per input; a given shape fixes the symbolic dimensions it shares', async () => {
    const { sets, inputs } = await prepareInputs(specs, NAME, { shapes: { audio: [4, 512] }, values: { sr: 16000 }, samples: 1 });
    assert.equal(sets.length, 1);
    const feeds = byName(sets[0]);
    assert.deepEqual(feeds.audio.dims, [4, 512]);
    assert.deepEqual(feeds.ids.dims, [4, 4]);
    assert.deepEqual([...(feeds.sr.data as BigInt64Array)], [16000n]);
    assert.deepEqual(inputs.find((input) => input.name === 'sr')!.origin, { kind: 'constant', value: 16000 });
    const wider = await prepareInputs(specs, NAME, { defaultDimension: 16, samples: 1 });
    assert.deepEqual(wider.inputs.map((input) => input.dims), [[16, 16], [16, 4], [], [2], [16]]);
  });

  it('refuses options that do not fit the model, naming what is wrong', async () => {
    await assert.rejects(prepareInputs(specs, NAME, { shapes: { audoi: [1, 2] } }),
      (error: Error) => error instanceof InvalidArgumentError && error.message === '"inputs.onnx" has no input "audoi"; its inputs are "audio", "ids", "sr", "mask", "half".');
    await assert.rejects(prepareInputs(specs, NAME, { shapes: { audio: [1, 2, 3] } }),
      /^InvalidArgumentError: Input "audio" of "inputs.onnx" has 2 dimensions \(\[batch,samples\]\), but the shape given has 3\.$/);
    await assert.rejects(prepareInputs(specs, NAME, { values: { sr: 0.5 } }),
      /Input "sr" is int64, so the value given for it must be a whole number, not 0\.5\./);
    const noShape = inputSpecs(model(graph({ nodes: [], inputs: [{ name: 'free', type: { tensorType: { elemType: DataType.FLOAT } } }] })), NAME);
    await assert.rejects(prepareInputs(noShape, NAME), /Input "free" of "inputs.onnx" declares no shape, so it needs one given for it\./);
    const sequence = model(graph({ nodes: [], inputs: [{ name: 'seq', type: { sequenceType: { elemType: { tensorType: { elemType: DataType.FLOAT } } } } }] }));
    assert.throws(() => inputSpecs(sequence, NAME), /Input "seq" of "inputs.onnx" is seq\(float32\), which ONNX Runtime for Node cannot be fed\./);
  });

  describe('.npy files', () => {
    let folder: string;
    let expected: Record<string, { shape: number[]; values: (number | string)[] }>;

    before(async () => {
      ({ folder } = await writeTemporary({}));
      expected = numpy(`
folder = data
arrays = {
  'f32': np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
  'i64': np.array([-3, 0, 2**40, 5], dtype=np.int64),
  'f16': np.array([0.5, -2.25, 65504], dtype=np.float16),
  'b1': np.array([[True, False], [False, True]]),
  'u8': np.array(200, dtype=np.uint8),
}
for name, a in arrays.items():
    np.save(f'{folder}/{name}.npy', a)
with open(f'{folder}/v2.npy', 'wb') as f:
    np.lib.format.write_array(f, np.arange(3, dtype=np.int32), version=(2, 0))
arrays['v2'] = np.arange(3, dtype=np.int32)
np.save(f'{folder}/fortran.npy', np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(f'{folder}/big-endian.npy', np.arange(3, dtype='>f4'))
def values(a):
    if a.dtype == np.float16: return a.ravel().view(np.uint16).tolist()
    if a.dtype == np.int64: return [str(v) for v in a.ravel().tolist()]
    return a.ravel().astype(np.float64).tolist()
result = {name: {'shape': list(a.shape), 'values': values(a)} for name, a in arrays.items()}
`, folder);
    });

    after(() => fs.rm(folder, { recursive: true, force: true }));

    it('reads what numpy writes, in every supported dtype and header version', async () => {
      const types: Record<string, string> = { f32: 'float32', i64: 'int64', f16: 'float16', b1: 'bool', u8: 'uint8', v2: 'int32' };
      for (const [name, { shape, values }] of Object.entries(expected)) {
        const file = path.join(folder, `${name}.npy`);
        const array = parseNpy(await fs.readFile(file), file);
        assert.equal(array.type, types[name], name);
        assert.deepEqual(array.dims, shape, name);
        const read = array.data instanceof BigInt64Array ? [...array.data].map(String) : [...(array.data as Float32Array)].map(Number);
        assert.deepEqual(read, values, name);
      }
    });

    it('refuses Fortran order and big-endian data, naming the file', async () => {
      for (const [name, why] of [['fortran', 'its values are in Fortran \\(column-major\\) order'], ['big-endian', 'dtype ">f4" is not one of']]) {
        const file = path.join(folder, `${name}.npy`);
        assert.throws(() => parseNpy(readFileSync(file), file), new RegExp(`^InputDataError: ".*${name}\\.npy" is not a \\.npy file ONNX Lens can read: ${why}`));
      }
      assert.throws(() => parseNpy(Buffer.from('not numpy'), 'text.npy'), /"text\.npy" is not a \.npy file ONNX Lens can read: it does not start with the \.npy magic string\./);
    });
  });

  describe('folders of real inputs', () => {
    const folderSpecs = inputSpecs(model(graph({ nodes: [], inputs: [valueInfo('x', DataType.FLOAT, [2]), valueInfo('n', DataType.INT64, [])] })), NAME);
    let folder: string;

    beforeEach(async () => {
      ({ folder } = await writeTemporary({}));
    });

    afterEach(() => fs.rm(folder, { recursive: true, force: true }));

    /** Writes with numpy and onnx's numpy_helper: files made by the tools users have. */
    function writeInputs(files: Record<string, { values: number[]; dtype: string; name?: string }>): void {
      numpy(`
from onnx import numpy_helper
import os
for path, spec in data.items():
    os.makedirs(os.path.dirname(path), exist_ok=True)
    a = np.array(spec['values'], dtype=spec['dtype']).reshape(() if spec['dtype'] == 'int64' else (-1,))
    if path.endswith('.npy'):
        np.save(path, a)
    else:
        with open(path, 'wb') as f:
            f.write(numpy_helper.from_array(a, spec.get('name', '')).SerializeToString())
result = None
`, Object.fromEntries(Object.entries(files).map(([file, spec]) => [path.join(folder, file), spec])));
    }

    it('reads one input set per subfolder, in natural order, matching files by name, by tensor name or as input_<i>', async () => {
      writeInputs({
        'set_1/x.npy': { values: [1, 2], dtype: 'float32' }, 'set_1/n.pb': { values: [10], dtype: 'int64' },
        'set_2/input_0.pb': { values: [3, 4], dtype: 'float32' }, 'set_2/anything.pb': { values: [20], dtype: 'int64', name: 'n' },
        'set_10/x.pb': { values: [5, 6], dtype: 'float32' }, 'set_10/output_0.pb': { values: [0], dtype: 'float32' },
      });
      const { sets, inputs } = await prepareInputs(folderSpecs, NAME, { folder });
      const read = sets.map((set) => set.map((feed) => [feed.name, Array.from(feed.data as ArrayLike<number | bigint>, Number)]));
      assert.deepEqual(read, [[['x', [1, 2]], ['n', [10]]], [['x', [3, 4]], ['n', [20]]], [['x', [5, 6]], ['n', [1]]]]);
      assert.deepEqual(inputs.map((input) => input.origin), [{ kind: 'file', file: path.join(folder, 'set_1', 'x.npy') }, { kind: 'file', file: path.join(folder, 'set_1', 'n.pb') }]);
      assert.equal(sets[2][1].data.length, 1, 'set_10 has no n: synthesised');
    });

    it('needs no declared shape for an input that files provide', async () => {
      writeInputs({ 'free.npy': { values: [1, 2, 3], dtype: 'float32' } });
      const shapeless = inputSpecs(model(graph({ nodes: [], inputs: [{ name: 'free', type: { tensorType: { elemType: DataType.FLOAT } } }] })), NAME);
      const { inputs } = await prepareInputs(shapeless, NAME, { folder });
      assert.deepEqual(inputs[0].dims, [3]);
    });

    it('refuses files that fit no input or hold another type, naming the file and the input', async () => {
      writeInputs({ 'x.npy': { values: [1, 2], dtype: 'int32' } });
      await assert.rejects(prepareInputs(folderSpecs, NAME, { folder }), /^InputDataError: ".*x\.npy" holds int32 values, but input "x" is float32\.$/);
      await fs.rm(path.join(folder, 'x.npy'));
      writeInputs({ 'y.npy': { values: [1, 2], dtype: 'float32' } });
      await assert.rejects(prepareInputs(folderSpecs, NAME, { folder }), /^InputDataError: ".*y\.npy" is for no input of the model: name it after one of "x", "n", or input_<i>\.$/);
      await assert.rejects(prepareInputs(folderSpecs, NAME, { folder: path.join(folder, 'missing') }), /^InputDataError: Cannot read inputs from ".*missing": it does not exist\.$/);
    });
  });
});
