import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  convertFloat16, ExternalDataReader, ModelFileError, onnx, OnnxModel, openBackup, parseExternalLocation, PassResult, pruneMagnitude,
  quantizeInt4, quantizeInt8, writeBackup, OrtRuntime, compareModels,
} from '../../src/core';
import { tensorsOf } from '../../src/core/model/model-writer';
import { isExternal } from '../../src/core/tensor/external-data';
import { attentionModel, ATTENTION, openGenerated } from '../support/pass-harness';

const PAGE = 4096;

/** Every file under a folder with a hash of its bytes: what "left as it was" is checked against. */
function folderDigest(folder: string): Record<string, string> {
  const digest: Record<string, string> = {};
  for (const name of readdirSync(folder, { recursive: true }) as string[]) {
    const file = path.join(folder, name);
    if (statSync(file).isFile()) digest[name] = createHash('sha256').update(readFileSync(file)).digest('hex');
  }
  return digest;
}

/** The byte ranges of the data file a saved model reads, sorted. */
function rangesRead(modelPath: string): { location: string; offset: number; length: number }[] {
  const proto = onnx.ModelProto.decode(readFileSync(modelPath));
  return tensorsOf(proto).filter(isExternal).map((tensor) => {
    const { location, offset, length } = parseExternalLocation(tensor);
    return { location, offset, length: length! };
  }).sort((a, b) => a.offset - b.offset);
}

/** The data file holds the ranges the model reads, each at a 4 KiB boundary, and nothing else but the padding between them. */
function assertDataFileHoldsOnlyWhatIsRead(modelPath: string): number {
  const ranges = rangesRead(modelPath);
  assert.ok(ranges.length > 0, 'the model reads no external data');
  assert.equal(new Set(ranges.map((range) => range.location)).size, 1, 'the model reads more than one data file');
  const dataPath = path.join(path.dirname(modelPath), ranges[0].location);
  let end = 0;
  for (const range of ranges) {
    assert.equal(range.offset % PAGE, 0, `offset ${range.offset} is not aligned to 4 KiB`);
    assert.ok(range.offset >= end && range.offset - end < PAGE, `a gap of ${range.offset - end} bytes before offset ${range.offset}`);
    end = range.offset + range.length;
  }
  assert.equal(statSync(dataPath).size, end);
  return end;
}

async function outputsOf(modelPath: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelPath);
  const { batch, sequence, vocabulary } = ATTENTION;
  const ids = BigInt64Array.from({ length: batch * sequence }, (_, i) => BigInt((i * 37) % vocabulary));
  const { y } = await session.run({ input_ids: new ort.Tensor('int64', ids, [batch, sequence]) });
  await session.release();
  return y.data as Float32Array;
}

function assertClose(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-5 * (1 + Math.abs(expected[i])), `output ${i}: ${actual[i]} vs ${expected[i]}`);
}

type Pass = (model: OnnxModel) => Promise<PassResult>;
const PASSES: [string, Pass][] = [
  ['int8', (model) => quantizeInt8(model)],
  ['int4', (model) => quantizeInt4(model)],
  ['float16', (model) => convertFloat16(model)],
  ['prune 50%', (model) => pruneMagnitude(model, { sparsity: 0.5 })],
];

describe('writing models with external data', () => {
  let work: string;
  let source: string;
  beforeEach(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'onnx-lens-writer-'));
    mkdirSync(path.join(work, 'source'));
    source = path.join(work, 'source', 'encoder.onnx');
    await openGenerated(attentionModel()).save(source, { externalData: 'always' });
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('writes an in-memory model\'s weights to one aligned data file named after it, which ONNX Runtime loads', async () => {
    assert.deepEqual(readdirSync(path.dirname(source)).sort(), ['encoder.onnx', 'encoder.onnx.data']);
    assert.ok(statSync(source).size < 16 * 1024, `the model file holds ${statSync(source).size} bytes`);
    assertDataFileHoldsOnlyWhatIsRead(source);
    const inline = path.join(work, 'inline.onnx');
    await openGenerated(attentionModel()).save(inline);
    assertClose(await outputsOf(source), await outputsOf(inline));
  });

  for (const [label, pass] of PASSES) {
    it(`${label} of a model with external data: the output folder holds only what it reads, loads, and the source is untouched`, async () => {
      const before = folderDigest(path.dirname(source));
      const { model: result } = await pass(await OnnxModel.open(source));
      const target = path.join(work, 'out', 'result.onnx');
      mkdirSync(path.dirname(target));
      const written = await result.save(target);
      assert.deepEqual(readdirSync(path.dirname(target)).sort(), ['result.onnx', 'result.onnx.data']);
      assert.equal(written.dataFile?.bytes, assertDataFileHoldsOnlyWhatIsRead(target));
      const { model: fromMemory } = await pass(openGenerated(attentionModel()));
      const inline = path.join(work, 'inline.onnx');
      await fromMemory.save(inline);
      assertClose(await outputsOf(target), await outputsOf(inline));
      assert.deepEqual(folderDigest(path.dirname(source)), before);
    });
  }

  it('keeps computed tensors on disk when asked, and saves the same model as from memory', async () => {
    const onDisk = await quantizeInt4(openGenerated(attentionModel()), { computedTensors: 'disk' });
    const inMemory = await quantizeInt4(openGenerated(attentionModel()));
    const computed = onDisk.model.weights().filter((weight) => weight.tensor.storage === 'external');
    assert.ok(computed.length > 0, 'no computed tensor went to disk');
    assert.deepEqual(onDisk.report.tensors, inMemory.report.tensors);
    const fromDisk = path.join(work, 'disk.onnx');
    await onDisk.model.save(fromDisk);
    const fromMemory = path.join(work, 'memory.onnx');
    await inMemory.model.save(fromMemory, { externalData: 'always' });
    assert.ok(readFileSync(`${fromDisk}.data`).equals(readFileSync(`${fromMemory}.data`)));
  });

  it('writes a result past the inline limit with external data instead of failing', async () => {
    const target = path.join(work, 'large.onnx');
    const written = await openGenerated(attentionModel()).save(target, { inlineLimitBytes: 64 * 1024 });
    assert.ok(written.dataFile, 'the model was written inline');
    assertDataFileHoldsOnlyWhatIsRead(target);
    await assert.rejects(openGenerated(attentionModel()).save(path.join(work, 'refused.onnx'), { externalData: 'never', inlineLimitBytes: 64 * 1024 }),
      (error: unknown) => error instanceof ModelFileError && /past protobuf's limit of 65536\. Save it with external data\.$/.test(error.message));
  });

  it('writes a model with external data inline when asked', async () => {
    const target = path.join(work, 'inline.onnx');
    const written = await (await OnnxModel.open(source)).save(target, { externalData: 'never' });
    assert.equal(written.dataFile, undefined);
    assert.deepEqual(readdirSync(work).filter((name) => name.startsWith('inline')), ['inline.onnx']);
    assertClose(await outputsOf(target), await outputsOf(source));
  });

  it('saving in place keeps the data file\'s name, and the models held from before still read their values', async () => {
    const original = await OnnxModel.open(source);
    const originalValues = await Promise.all(original.weights().map((weight) => weight.tensor.rawBytes()));
    const { model: pruned } = await pruneMagnitude(original, { sparsity: 0.5 });
    await pruned.save(source, { dataLocation: original.singleDataLocation() });
    assert.deepEqual(readdirSync(path.dirname(source)).sort(), ['encoder.onnx', 'encoder.onnx.data']);
    assertDataFileHoldsOnlyWhatIsRead(source);
    const again = await Promise.all(original.weights().map((weight) => weight.tensor.rawBytes()));
    again.forEach((bytes, index) => assert.ok(Buffer.from(bytes).equals(Buffer.from(originalValues[index])), `weight ${index} changed under the model held from before`));
    const reopened = await OnnxModel.open(source);
    const prunedValues = await Promise.all(pruned.weights().map((weight) => weight.tensor.rawBytes()));
    const reopenedValues = await Promise.all(reopened.weights().map((weight) => weight.tensor.rawBytes()));
    reopenedValues.forEach((bytes, index) => assert.ok(Buffer.from(bytes).equals(Buffer.from(prunedValues[index]))));
    await original.close();
  });

  it('a read failing mid-save leaves the original model and its data as they were, with no temporary file', async () => {
    const before = folderDigest(path.dirname(source));
    const opened = await OnnxModel.open(source);
    let reads = 0;
    const failing: ExternalDataReader = {
      read: (request) => (++reads === 3 ? Promise.reject(new Error('the disk went away')) : opened.externalData!.read(request)),
    };
    const doomed = opened.withProto(opened.proto, failing);
    await assert.rejects(doomed.save(source, { dataLocation: 'encoder.onnx.data' }),
      (error: unknown) => error instanceof ModelFileError && error.message.includes('the disk went away'));
    assert.ok(reads >= 3);
    assert.deepEqual(folderDigest(path.dirname(source)), before);
  });

  it('measures an edited model whose tensors are on disk through a temporary copy beside the original, removed afterwards', async () => {
    const before = folderDigest(path.dirname(source));
    const original = await OnnxModel.open(source);
    const { model: quantized } = await quantizeInt8(original);
    const runtime = new OrtRuntime();
    try {
      const report = await compareModels(runtime, { name: 'original', model: original }, { name: 'int8', model: quantized }, { rounds: 0 });
      assert.ok(report.outputs[0].cosineSimilarity > 0.999 && report.outputs[0].cosineSimilarity < 1, `cosine ${report.outputs[0].cosineSimilarity}`);
    } finally {
      runtime.dispose();
    }
    assert.deepEqual(folderDigest(path.dirname(source)), before);
  });

  it('a hot-exit backup refers to the original\'s data and holds only the tensors computed in memory', async () => {
    const { model: quantized } = await quantizeInt8(await OnnxModel.open(source));
    const backup = path.join(work, 'backups', 'edit-1');
    await writeBackup(quantized, backup);
    const backupData = path.join(work, 'backups', 'edit-1.data');
    const computedBytes = quantized.weights().filter((weight) => weight.tensor.externalLocation?.location.startsWith('onnx-lens-scratch-'))
      .reduce((total, weight) => total + weight.tensor.byteLength, 0);
    assert.ok(computedBytes > 0, 'the pass kept nothing on disk');
    assert.ok(statSync(backupData).size < computedBytes + PAGE * quantized.weights().length, 'the backup copied more than the computed tensors');
    const restored = await openBackup(backup, source);
    const expected = await Promise.all(quantized.weights().map((weight) => weight.tensor.rawBytes()));
    const actual = await Promise.all(restored.weights().map((weight) => weight.tensor.rawBytes()));
    actual.forEach((bytes, index) => assert.ok(Buffer.from(bytes).equals(Buffer.from(expected[index])), `weight ${index} differs after restore`));
  });
});
