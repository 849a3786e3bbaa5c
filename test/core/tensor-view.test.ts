import { strict as assert } from 'node:assert';
import { allDataTypes, onnx, TensorDataError, TensorView } from '../../src/core';
import { toLong } from '../../src/core/onnx/int64';
import { DataType, floatTensor, rawTensor } from '../support/model-builder';

const bytes = (...values: number[]) => Uint8Array.from(values);
const numbers = (values: unknown) => Array.from(values as ArrayLike<number>);
const le16 = (...values: number[]) => new Uint8Array(Uint16Array.from(values).buffer);

function typedTensor(dataType: number, dims: number[], fields: Partial<onnx.ITensorProto>): TensorView {
  return new TensorView({ name: 't', dataType, dims: dims.map(toLong), ...fields });
}

async function floatsOf(view: TensorView): Promise<number[]> {
  return numbers(await view.floats());
}

/** Each case: bit patterns and the real values they stand for, worked out by hand from the format definitions. */
const SMALL_FLOAT_CASES: { type: number; name: string; patterns: number[]; expected: number[] }[] = [
  { type: DataType.FLOAT8E4M3FN, name: 'float8e4m3fn', patterns: [0x38, 0xb8, 0x7e, 0x01, 0x7f, 0x00],
    expected: [1, -1, 448, 2 ** -9, NaN, 0] },
  { type: DataType.FLOAT8E4M3FNUZ, name: 'float8e4m3fnuz', patterns: [0x40, 0x7f, 0x80, 0x01],
    expected: [1, 240, NaN, 2 ** -10] },
  { type: DataType.FLOAT8E5M2, name: 'float8e5m2', patterns: [0x3c, 0x7b, 0x7c, 0xfc, 0x7d, 0x01],
    expected: [1, 57344, Infinity, -Infinity, NaN, 2 ** -16] },
  { type: DataType.FLOAT8E5M2FNUZ, name: 'float8e5m2fnuz', patterns: [0x40, 0x7f, 0x80, 0xc0],
    expected: [1, 57344, NaN, -1] },
  { type: DataType.FLOAT8E8M0, name: 'float8e8m0', patterns: [127, 128, 0, 255],
    expected: [1, 2, 2 ** -127, NaN] },
];

describe('TensorView', () => {
  it('knows every TensorProto data type the schema defines', () => {
    const defined = Object.values(onnx.TensorProto.DataType).filter((code) => typeof code === 'number' && code !== 0);
    assert.deepEqual(allDataTypes().map((type) => type.code).sort((a, b) => a - b), (defined as number[]).sort((a, b) => a - b));
  });

  it('views aligned float32 raw_data without copying', async () => {
    const view = new TensorView(floatTensor('w', [2, 2], [1, 2, 3, 4]));
    const values = await view.values();
    assert.ok(values instanceof Float32Array);
    assert.equal(values.buffer, view.proto.rawData!.buffer);
    assert.deepEqual(Array.from(values), [1, 2, 3, 4]);
  });

  it('copies unaligned raw_data into an aligned array with the same values', async () => {
    const backing = new Uint8Array(17);
    backing.set(new Uint8Array(Float32Array.of(1.5, -2.25, 3, 4e-3).buffer), 1);
    const view = new TensorView(rawTensor('w', DataType.FLOAT, [4], backing.subarray(1)));
    assert.deepEqual(numbers(await view.values()), Array.from(Float32Array.of(1.5, -2.25, 3, 4e-3)));
  });

  it('decodes float16 from raw_data and from int32_data', async () => {
    const patterns = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00, 0x8000];
    const expected = [1, -2, 65504, 2 ** -24, Infinity, NaN, -0];
    assert.deepEqual(await floatsOf(new TensorView(rawTensor('h', DataType.FLOAT16, [7], le16(...patterns)))), expected);
    assert.deepEqual(await floatsOf(typedTensor(DataType.FLOAT16, [7], { int32Data: patterns })), expected);
  });

  it('decodes bfloat16', async () => {
    assert.deepEqual(await floatsOf(new TensorView(rawTensor('b', DataType.BFLOAT16, [3], le16(0x3f80, 0xc040, 0x4049)))), [1, -3, 3.140625]);
  });

  for (const testCase of SMALL_FLOAT_CASES) {
    it(`decodes ${testCase.name} from raw_data and int32_data`, async () => {
      const dims = [testCase.patterns.length];
      assert.deepEqual(await floatsOf(new TensorView(rawTensor('f8', testCase.type, dims, Uint8Array.from(testCase.patterns)))), testCase.expected);
      assert.deepEqual(await floatsOf(typedTensor(testCase.type, dims, { int32Data: testCase.patterns })), testCase.expected);
    });
  }

  it('unpacks float4e2m1, low nibble first', async () => {
    const view = new TensorView(rawTensor('f4', DataType.FLOAT4E2M1, [16], bytes(0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe)));
    assert.deepEqual(await floatsOf(view), [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]);
  });

  it('unpacks int4 and uint4 with an odd element count', async () => {
    const packed = bytes(0x21, 0x0f);
    assert.deepEqual(await floatsOf(new TensorView(rawTensor('i4', DataType.INT4, [3], packed))), [1, 2, -1]);
    assert.deepEqual(await floatsOf(new TensorView(rawTensor('u4', DataType.UINT4, [3], packed))), [1, 2, 15]);
    assert.deepEqual(await floatsOf(typedTensor(DataType.INT4, [3], { int32Data: [0x21, 0x0f] })), [1, 2, -1]);
  });

  it('unpacks int2 and uint2, four to a byte', async () => {
    assert.deepEqual(await floatsOf(new TensorView(rawTensor('i2', DataType.INT2, [4], bytes(0xe4)))), [0, 1, -2, -1]);
    assert.deepEqual(await floatsOf(new TensorView(rawTensor('u2', DataType.UINT2, [5], bytes(0xe4, 0x03)))), [0, 1, 2, 3, 3]);
  });

  it('reads integer types from raw_data and typed fields', async () => {
    assert.deepEqual(numbers(await typedTensor(DataType.INT8, [3], { int32Data: [-128, 0, 127] }).values()), [-128, 0, 127]);
    assert.deepEqual(numbers(await typedTensor(DataType.UINT16, [2], { int32Data: [0, 65535] }).values()), [0, 65535]);
    assert.deepEqual(numbers(await typedTensor(DataType.UINT32, [2], { uint64Data: [toLong(0), toLong(4294967295)] }).values()), [0, 4294967295]);
    const int64 = await typedTensor(DataType.INT64, [2], { int64Data: [toLong(-9223372036854775808n), toLong(9223372036854775807n)] }).values();
    assert.deepEqual(Array.from(int64 as BigInt64Array), [-9223372036854775808n, 9223372036854775807n]);
    const raw64 = new Uint8Array(BigInt64Array.of(-5n, 1n << 60n).buffer);
    assert.deepEqual(Array.from((await new TensorView(rawTensor('r', DataType.INT64, [2], raw64)).values()) as BigInt64Array), [-5n, 1n << 60n]);
    assert.deepEqual(numbers(await typedTensor(DataType.BOOL, [2], { int32Data: [1, 0] }).values()), [1, 0]);
  });

  it('turns typed fields into the raw bytes raw_data would hold', async () => {
    const fromField = await typedTensor(DataType.FLOAT, [3], { floatData: [1, -2, 0.5] }).rawBytes();
    assert.deepEqual(Array.from(fromField), Array.from(new Uint8Array(Float32Array.of(1, -2, 0.5).buffer)));
    const doubles = await typedTensor(DataType.COMPLEX128, [1], { doubleData: [1, -1] }).values();
    assert.deepEqual(Array.from(doubles as Float64Array), [1, -1]);
  });

  it('holds strings as bytes', async () => {
    const view = typedTensor(DataType.STRING, [2], { stringData: [bytes(104, 105), bytes()] });
    assert.deepEqual((await view.values() as Uint8Array[]).map((s) => s.length), [2, 0]);
    await assert.rejects(view.floats(), TensorDataError);
  });

  describe('refuses tensors whose data does not match their declaration', () => {
    const refuses = (fields: Partial<onnx.ITensorProto>, pattern: RegExp) =>
      assert.throws(() => new TensorView({ name: 'layer1.weight', ...fields }), (error: unknown) =>
        error instanceof TensorDataError && error.tensorName === 'layer1.weight' && pattern.test(error.message));

    it('raw_data shorter than the shape needs', () =>
      refuses({ dataType: DataType.FLOAT, dims: [toLong(3)], rawData: new Uint8Array(8) }, /"layer1\.weight".*should hold 12 bytes, but holds 8\./));
    it('a typed field longer than the shape', () =>
      refuses({ dataType: DataType.FLOAT, dims: [toLong(2)], floatData: [1, 2, 3] }, /should hold 2 values in floatData, but holds 3/));
    it('a trillion-element shape with four bytes of data, before allocating anything', () =>
      refuses({ dataType: DataType.FLOAT, dims: [toLong(1e6), toLong(1e6)], rawData: new Uint8Array(4) }, /should hold 4000000000000 bytes/));
    it('a negative dimension', () =>
      refuses({ dataType: DataType.FLOAT, dims: [toLong(-1)], rawData: new Uint8Array(4) }, /dimension -1 on axis 0/));
    it('a shape whose element count overflows', () =>
      refuses({ dataType: DataType.FLOAT, dims: [toLong(2 ** 40), toLong(2 ** 40)], rawData: new Uint8Array(4) }, /too many elements/));
    it('an unknown data type', () =>
      refuses({ dataType: 99, dims: [toLong(1)], rawData: new Uint8Array(4) }, /data type 99/));
  });
});
