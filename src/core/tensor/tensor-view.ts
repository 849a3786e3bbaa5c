import { ExternalDataError, TensorDataError, quote } from '../errors';
import { int64ToBigInt, int64ToSafeNumber, Int64 } from '../onnx/int64';
import { onnx } from '../proto';
import { DataTypeInfo, dataTypeInfo, rawByteLength } from './dtypes';
import { ExternalDataReader, ExternalLocation, isExternal, parseExternalLocation } from './external-data';
import {
  bfloat16BitsToNumber, FLOAT16_VALUES, FLOAT4_E2M1_VALUES, FLOAT8_E4M3FN_VALUES, FLOAT8_E4M3FNUZ_VALUES,
  FLOAT8_E5M2_VALUES, FLOAT8_E5M2FNUZ_VALUES, FLOAT8_E8M0_VALUES,
} from './float-formats';

const T = onnx.TensorProto.DataType;

/**
 * The values of a tensor in their native form: a typed array per element type,
 * bit patterns (Uint16Array, Uint8Array) for float16/bfloat16/float8, packed
 * bytes for 4- and 2-bit types, interleaved (re, im) for complex, and byte
 * strings for STRING.
 */
export type TensorValues =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Uint8Array[];

export type TensorStorage = 'raw' | 'typed-field' | 'external';

type TypedArrayConstructor =
  | Float32ArrayConstructor | Float64ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor
  | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor
  | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

/** Native array type for each data type whose raw bytes can be viewed directly. */
const NATIVE_ARRAY = new Map<number, TypedArrayConstructor>([
  [T.FLOAT, Float32Array], [T.DOUBLE, Float64Array], [T.INT8, Int8Array], [T.UINT8, Uint8Array],
  [T.BOOL, Uint8Array], [T.INT16, Int16Array], [T.UINT16, Uint16Array], [T.FLOAT16, Uint16Array],
  [T.BFLOAT16, Uint16Array], [T.INT32, Int32Array], [T.UINT32, Uint32Array], [T.INT64, BigInt64Array],
  [T.UINT64, BigUint64Array], [T.COMPLEX64, Float32Array], [T.COMPLEX128, Float64Array],
]);

/** Lookup tables for the byte-sized float formats. */
const FLOAT8_TABLES = new Map<number, Float32Array>([
  [T.FLOAT8E4M3FN, FLOAT8_E4M3FN_VALUES], [T.FLOAT8E4M3FNUZ, FLOAT8_E4M3FNUZ_VALUES],
  [T.FLOAT8E5M2, FLOAT8_E5M2_VALUES], [T.FLOAT8E5M2FNUZ, FLOAT8_E5M2FNUZ_VALUES], [T.FLOAT8E8M0, FLOAT8_E8M0_VALUES],
]);

/**
 * A lazy view of one TensorProto. Construction checks the declared type and
 * shape against the data that is present, without touching the data; values
 * are produced on request, as zero-copy views of raw_data where alignment allows.
 */
export class TensorView {
  readonly name: string;
  readonly dataType: DataTypeInfo;
  readonly dims: readonly number[];
  readonly elementCount: number;
  readonly storage: TensorStorage;
  readonly externalLocation?: ExternalLocation;

  constructor(readonly proto: onnx.ITensorProto, private readonly externalReader?: ExternalDataReader) {
    this.name = proto.name ?? '';
    this.dataType = checkedDataType(proto, this.name);
    this.dims = checkedDims(proto.dims ?? [], this.name);
    this.elementCount = checkedElementCount(this.dims, this.name);
    this.storage = isExternal(proto) ? 'external' : proto.rawData && proto.rawData.length > 0 ? 'raw' : 'typed-field';
    if (this.storage === 'external') this.externalLocation = parseExternalLocation(proto);
    this.checkStoredLength();
  }

  /** Bytes the values occupy in raw form (what raw_data or an external file holds). */
  get byteLength(): number {
    return this.dataType.bits === 0 ? sumLengths(this.proto.stringData ?? []) : rawByteLength(this.dataType, this.elementCount);
  }

  /** The values as little-endian raw bytes, exactly as raw_data would hold them. */
  async rawBytes(): Promise<Uint8Array> {
    if (this.storage === 'raw') return this.proto.rawData!;
    if (this.storage === 'external') return this.readExternal();
    return typedFieldToRawBytes(this.proto, this.dataType, this.elementCount);
  }

  async values(): Promise<TensorValues> {
    if (this.dataType.code === T.STRING) return this.proto.stringData ?? [];
    const nativeArray = NATIVE_ARRAY.get(this.dataType.code);
    if (this.storage === 'typed-field') return typedFieldValues(this.proto, this.dataType, this.elementCount, nativeArray);
    const bytes = await this.rawBytes();
    return nativeArray ? viewAs(nativeArray, bytes) : bytes;
  }

  /** The values as numbers for analysis: float64 stays Float64Array, everything else becomes Float32Array. */
  async floats(): Promise<Float32Array | Float64Array> {
    return decodeToFloat(await this.values(), this.dataType, this.elementCount, this.name);
  }

  private async readExternal(): Promise<Uint8Array> {
    const location = this.externalLocation!;
    if (!this.externalReader) {
      throw new ExternalDataError(`Tensor ${quote(this.name)} is stored in ${quote(location.location)}, but the model was opened without its folder.`, this.name, location.location);
    }
    return this.externalReader.read({ ...location, tensorName: this.name, byteLength: this.byteLength });
  }

  private checkStoredLength(): void {
    const expected = this.expectedStoredLength();
    const actual = this.storedLength();
    if (actual !== undefined && actual !== expected.count) {
      throw new TensorDataError(
        `Tensor ${quote(this.name)} (${this.dataType.name}[${this.dims.join(',')}]) should hold ${expected.count} ${expected.unit}, but holds ${actual}.`,
        this.name);
    }
  }

  private expectedStoredLength(): { count: number; unit: string } {
    if (this.storage === 'typed-field') {
      if (this.dataType.code === T.STRING) return { count: this.elementCount, unit: 'strings in string_data' };
      return { count: Math.ceil(this.elementCount / this.dataType.elementsPerFieldEntry), unit: `values in ${this.dataType.typedField}` };
    }
    return { count: this.byteLength, unit: 'bytes' };
  }

  private storedLength(): number | undefined {
    if (this.storage === 'raw') return this.proto.rawData!.length;
    if (this.storage === 'external') return this.externalLocation!.length;
    return (this.proto[this.dataType.typedField] ?? []).length;
  }
}

function checkedDataType(proto: onnx.ITensorProto, name: string): DataTypeInfo {
  const type = dataTypeInfo(proto.dataType ?? 0);
  if (!type) throw new TensorDataError(`Tensor ${quote(name)} has data type ${proto.dataType ?? 0}, which ONNX does not define.`, name);
  if (type.code === T.STRING && (isExternal(proto) || (proto.rawData?.length ?? 0) > 0)) {
    throw new TensorDataError(`Tensor ${quote(name)} is a string tensor stored as raw bytes, which ONNX does not allow.`, name);
  }
  return type;
}

function checkedDims(dims: Int64[], name: string): number[] {
  return dims.map((dim, axis) => {
    const value = int64ToSafeNumber(dim);
    if (value === undefined || value < 0) {
      throw new TensorDataError(`Tensor ${quote(name)} has dimension ${String(dim)} on axis ${axis}, which is not a valid size.`, name);
    }
    return value;
  });
}

function checkedElementCount(dims: readonly number[], name: string): number {
  let count = 1;
  for (const dim of dims) {
    count *= dim;
    if (!Number.isSafeInteger(count)) {
      throw new TensorDataError(`Tensor ${quote(name)} declares shape [${dims.join(',')}], too many elements to address.`, name);
    }
  }
  return count;
}

function sumLengths(strings: Uint8Array[]): number {
  return strings.reduce((total, item) => total + item.length, 0);
}

/** A typed-array view of bytes; copies only when the bytes are not aligned to the element size. */
function viewAs<A extends TypedArrayConstructor>(Ctor: A, bytes: Uint8Array): InstanceType<A> {
  // new Uint8Array(bytes) copies; Buffer.prototype.slice would not.
  const aligned = bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? bytes : new Uint8Array(bytes);
  return new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / Ctor.BYTES_PER_ELEMENT) as InstanceType<A>;
}

function typedFieldValues(
  proto: onnx.ITensorProto, type: DataTypeInfo, elementCount: number, nativeArray: TypedArrayConstructor | undefined,
): TensorValues {
  const field = proto[type.typedField] ?? [];
  if (type.typedField === 'int64Data' || type.typedField === 'uint64Data') {
    const values = (field as Int64[]).map(int64ToBigInt);
    if (type.code === T.INT64) return BigInt64Array.from(values);
    if (type.code === T.UINT64) return BigUint64Array.from(values);
    return Uint32Array.from(values, (value) => Number(value));
  }
  if (nativeArray && nativeArray !== BigInt64Array && nativeArray !== BigUint64Array) {
    return (nativeArray as Float64ArrayConstructor).from(field as number[]);
  }
  // float8 variants hold one bit pattern per int32; sub-byte types hold several packed elements per int32.
  return typedFieldToRawBytes(proto, type, elementCount);
}

/** Converts values held in a typed field into raw little-endian bytes. */
function typedFieldToRawBytes(proto: onnx.ITensorProto, type: DataTypeInfo, elementCount: number): Uint8Array {
  if (type.code === T.STRING) throw new TensorDataError(`Tensor ${quote(proto.name)} is a string tensor and has no raw form.`, proto.name ?? '');
  const bytes = new Uint8Array(rawByteLength(type, elementCount));
  const view = new DataView(bytes.buffer);
  const field = proto[type.typedField] ?? [];
  if (type.bits < 8) {
    // int32_data holds the packed bytes' worth of elements per entry, lowest bits first.
    const bytesPerEntry = type.elementsPerFieldEntry * type.bits / 8;
    (field as number[]).forEach((entry, index) => {
      for (let b = 0; b < bytesPerEntry && index * bytesPerEntry + b < bytes.length; b++) {
        bytes[index * bytesPerEntry + b] = (entry >>> (8 * b)) & 0xff;
      }
    });
    return bytes;
  }
  const width = type.bits / 8 / (type.elementsPerFieldEntry < 1 ? 2 : 1);
  (field as (number | Int64)[]).forEach((value, index) => writeLittleEndian(view, index * width, width, type, value));
  return bytes;
}

function writeLittleEndian(view: DataView, offset: number, width: number, type: DataTypeInfo, value: number | Int64): void {
  if (type.typedField === 'floatData') view.setFloat32(offset, value as number, true);
  else if (type.typedField === 'doubleData') view.setFloat64(offset, value as number, true);
  else if (width === 8) view.setBigUint64(offset, BigInt.asUintN(64, int64ToBigInt(value as Int64)), true);
  else if (width === 4) view.setUint32(offset, Number(typeof value === 'number' ? value : int64ToBigInt(value)) >>> 0, true);
  else if (width === 2) view.setUint16(offset, (value as number) & 0xffff, true);
  else view.setUint8(offset, (value as number) & 0xff);
}

function decodeToFloat(values: TensorValues, type: DataTypeInfo, elementCount: number, name: string): Float32Array | Float64Array {
  if (Array.isArray(values)) throw new TensorDataError(`Tensor ${quote(name)} holds strings, which have no numeric value.`, name);
  switch (type.code) {
    case T.FLOAT: case T.DOUBLE: return values as Float32Array | Float64Array;
    case T.FLOAT16: return mapInto(elementCount, (i) => FLOAT16_VALUES[(values as Uint16Array)[i]]);
    case T.BFLOAT16: return mapInto(elementCount, (i) => bfloat16BitsToNumber((values as Uint16Array)[i]));
    case T.INT4: case T.UINT4: case T.INT2: case T.UINT2: case T.FLOAT4E2M1:
      return unpackSubByte(values as Uint8Array, elementCount, type);
    case T.INT64: case T.UINT64: return mapInto(elementCount, (i) => Number((values as BigInt64Array)[i]));
  }
  const table = FLOAT8_TABLES.get(type.code);
  if (table) return mapInto(elementCount, (i) => table[(values as Uint8Array)[i]]);
  return Float32Array.from(values as ArrayLike<number>);
}

function mapInto(count: number, valueAt: (index: number) => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = valueAt(i);
  return out;
}

function unpackSubByte(packed: Uint8Array, count: number, type: DataTypeInfo): Float32Array {
  const bits = type.bits;
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const signed = type.code === T.INT4 || type.code === T.INT2;
  const isFloat4 = type.code === T.FLOAT4E2M1;
  return mapInto(count, (i) => {
    const field = (packed[Math.floor(i / perByte)] >> ((i % perByte) * bits)) & mask;
    if (isFloat4) return FLOAT4_E2M1_VALUES[field];
    return signed && field >> (bits - 1) ? field - (1 << bits) : field;
  });
}
