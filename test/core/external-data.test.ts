import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExternalDataError, onnx, OnnxModel, TensorDataError } from '../../src/core';
import { toLong } from '../../src/core/onnx/int64';
import { DataType, encode, graph, model, node, valueInfo } from '../support/model-builder';

const WEIGHTS = Float32Array.of(1, 2, 3, 4, 5, 6);
const DATA_OFFSET = 16;

function externalTensor(name: string, entries: Record<string, string>): onnx.TensorProto {
  return onnx.TensorProto.create({
    name, dataType: DataType.FLOAT, dims: [toLong(2), toLong(3)], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
  });
}

/** x[1,2] · W[2,3] with W stored in an external file. */
function writeModel(folder: string, entries: Record<string, string>, fileName = 'model.onnx'): string {
  const m = model(graph({
    nodes: [node('MatMul', ['x', 'W'], ['y'], [], 'mm')],
    inputs: [valueInfo('x', DataType.FLOAT, [1, 2])], outputs: [valueInfo('y', DataType.FLOAT, [1, 3])],
    initializers: [externalTensor('W', entries)],
  }));
  const modelPath = path.join(folder, fileName);
  writeFileSync(modelPath, encode(m));
  return modelPath;
}

function writeWeights(filePath: string): void {
  mkdirSync(path.dirname(filePath), { recursive: true });
  const data = new Uint8Array(DATA_OFFSET + WEIGHTS.byteLength);
  data.set(new Uint8Array(WEIGHTS.buffer), DATA_OFFSET);
  writeFileSync(filePath, data);
}

async function runWithOrt(modelPath: string): Promise<number[]> {
  const session = await ort.InferenceSession.create(modelPath);
  const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 1), [1, 2]) });
  await session.release();
  return Array.from(y.data as Float32Array);
}

describe('external data', () => {
  let work: string;
  beforeEach(() => { work = mkdtempSync(path.join(tmpdir(), 'onnx-lens-ext-')); });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const firstWeight = async (modelPath: string) => (await OnnxModel.open(modelPath)).weights()[0];

  it('reads a tensor lazily from its location, offset and length', async () => {
    writeWeights(path.join(work, 'data', 'w.bin'));
    const modelPath = writeModel(work, { location: 'data/w.bin', offset: String(DATA_OFFSET), length: String(WEIGHTS.byteLength) });
    const weight = await firstWeight(modelPath);
    assert.equal(weight.tensor.storage, 'external');
    assert.deepEqual(Array.from(await weight.tensor.floats()), Array.from(WEIGHTS));
  });

  it('save-as to another folder takes the data along so the new model loads there in ONNX Runtime, leaving the original as it was', async () => {
    const dataPath = path.join(work, 'data', 'w.bin');
    writeWeights(dataPath);
    const modelPath = writeModel(work, { location: 'data/w.bin', offset: String(DATA_OFFSET) });
    const [modelBefore, dataBefore] = [readFileSync(modelPath), readFileSync(dataPath)];
    const target = path.join(work, 'elsewhere', 'copy.onnx');
    mkdirSync(path.dirname(target));

    await (await OnnxModel.open(modelPath)).save(target);

    assert.ok(readFileSync(modelPath).equals(modelBefore) && readFileSync(dataPath).equals(dataBefore));
    // A tensor of 24 bytes is below the external-data threshold: the copy holds it inline.
    assert.deepEqual(readdirSync(path.dirname(target)), ['copy.onnx']);
    assert.deepEqual(await runWithOrt(modelPath), [5, 7, 9]);
    rmSync(path.join(work, 'data'), { recursive: true });
    assert.deepEqual(Array.from(await (await firstWeight(target)).tensor.floats()), Array.from(WEIGHTS));
    assert.deepEqual(await runWithOrt(target), [5, 7, 9]);
  });

  it('save-as leaves another model\'s data file in the new folder alone, whatever its name', async () => {
    writeWeights(path.join(work, 'data', 'w.bin'));
    const modelPath = writeModel(work, { location: 'data/w.bin', offset: String(DATA_OFFSET) });
    const target = path.join(work, 'elsewhere', 'copy.onnx');
    const theirs = path.join(work, 'elsewhere', 'data', 'w.bin');
    mkdirSync(path.dirname(theirs), { recursive: true });
    writeFileSync(theirs, 'the data of another model');

    await (await OnnxModel.open(modelPath)).save(target, { externalData: 'always', inlineLimitBytes: 0 });

    assert.equal(readFileSync(theirs, 'utf8'), 'the data of another model');
    assert.deepEqual(readdirSync(path.dirname(target)).sort(), ['copy.onnx', 'data']);
    assert.deepEqual(await runWithOrt(target), [5, 7, 9]);
  });

  it('save-as again into the same folder reuses the data file already copied there', async () => {
    writeWeights(path.join(work, 'w.bin'));
    const modelPath = writeModel(work, { location: 'w.bin', offset: String(DATA_OFFSET) });
    const target = path.join(work, 'elsewhere', 'copy.onnx');
    mkdirSync(path.dirname(target));
    const model = await OnnxModel.open(modelPath);
    await model.save(target);
    model.proto.docString = 'saved twice';
    await model.save(target);
    assert.equal((await OnnxModel.open(target)).proto.docString, 'saved twice');
    assert.deepEqual(await runWithOrt(target), [5, 7, 9]);
  });

  it('save-as refuses to copy data that a symlink leads to outside the folder, and writes nothing', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'onnx-lens-outside-'));
    try {
      writeWeights(path.join(outside, 'secret.bin'));
      symlinkSync(path.join(outside, 'secret.bin'), path.join(work, 'link.bin'));
      const modelPath = writeModel(work, { location: 'link.bin' });
      const target = path.join(work, 'elsewhere', 'copy.onnx');
      mkdirSync(path.dirname(target));
      await assert.rejects((await OnnxModel.open(modelPath)).save(target), (error: unknown) =>
        error instanceof ExternalDataError && /"link.bin", which is refused: it resolves outside the model's folder\./.test(error.message));
      assert.deepEqual(readdirSync(path.dirname(target)), []);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('save in the same folder keeps the data file and rewrites only the model, atomically', async () => {
    writeWeights(path.join(work, 'w.bin'));
    const modelPath = writeModel(work, { location: 'w.bin', offset: String(DATA_OFFSET) });
    const before = readFileSync(path.join(work, 'w.bin'));
    const model = await OnnxModel.open(modelPath);
    model.proto.docString = 'saved by a test';
    await model.save(modelPath);
    assert.ok(readFileSync(path.join(work, 'w.bin')).equals(before));
    assert.equal((await OnnxModel.open(modelPath)).proto.docString, 'saved by a test');
    assert.deepEqual(await runWithOrt(modelPath), [5, 7, 9]);
  });

  describe('refuses locations outside the model folder', () => {
    const refused = async (location: string, pattern: RegExp) => {
      const modelPath = writeModel(work, { location });
      await assert.rejects(async () => (await firstWeight(modelPath)).tensor.floats(), (error: unknown) =>
        error instanceof ExternalDataError && error.tensorName === 'W' && pattern.test(error.message));
    };

    it('an absolute path', () => refused('/etc/passwd', /"W".*"\/etc\/passwd", which is refused: it is an absolute path\./));
    it('a Windows absolute path', () => refused('C:\\weights.bin', /absolute path/));
    it('a path with ..', () => refused('../outside.bin', /contains "\.\."/));
    it('a path with .. in the middle', () => refused('data/../../outside.bin', /contains "\.\."/));
    it('a symlink that leads out of the folder', async () => {
      const outside = mkdtempSync(path.join(tmpdir(), 'onnx-lens-outside-'));
      writeWeights(path.join(outside, 'secret.bin'));
      symlinkSync(path.join(outside, 'secret.bin'), path.join(work, 'link.bin'));
      try {
        await refused('link.bin', /resolves outside the model's folder/);
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
    });
  });

  it('reports a missing data file', async () => {
    const modelPath = writeModel(work, { location: 'missing.bin' });
    await assert.rejects((await firstWeight(modelPath)).tensor.floats(), /"W" has its data in "missing.bin", but that file does not exist\./);
  });

  it('reports data that would run past the end of the file', async () => {
    writeWeights(path.join(work, 'w.bin'));
    const modelPath = writeModel(work, { location: 'w.bin', offset: '30' });
    await assert.rejects((await firstWeight(modelPath)).tensor.floats(), /needs 24 bytes at offset 30 of "w.bin", but that file has only 40 bytes\./);
  });

  it('reports an offset past the end of the file', async () => {
    writeWeights(path.join(work, 'w.bin'));
    const modelPath = writeModel(work, { location: 'w.bin', offset: '4096' });
    await assert.rejects((await firstWeight(modelPath)).tensor.floats(), /needs 24 bytes at offset 4096 of "w.bin", but that file has only 40 bytes\./);
  });

  it('reports a declared length that runs past the end of the file', async () => {
    writeWeights(path.join(work, 'w.bin'));
    const modelPath = writeModel(work, { location: 'w.bin', offset: '20', length: '24' });
    await assert.rejects((await firstWeight(modelPath)).tensor.floats(), /needs 24 bytes at offset 20 of "w.bin", but that file has only 40 bytes\./);
  });

  it('refuses an offset that is not a byte count', async () => {
    for (const offset of ['-8', '1e3', '99999999999999999999']) {
      const modelPath = writeModel(work, { location: 'w.bin', offset });
      await assert.rejects(OnnxModel.open(modelPath), (error: unknown) =>
        error instanceof TensorDataError && error.message.includes(`offset ${JSON.stringify(offset)}, which is not a byte count.`));
    }
  });

  it('refuses a declared length that does not match the shape', async () => {
    const modelPath = writeModel(work, { location: 'w.bin', length: '8' });
    await assert.rejects(OnnxModel.open(modelPath), (error: unknown) => error instanceof TensorDataError && /should hold 24 bytes, but holds 8/.test(error.message));
  });
});
