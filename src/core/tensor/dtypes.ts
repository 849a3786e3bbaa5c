import { onnx } from '../proto';

const T = onnx.TensorProto.DataType;

/** Which TensorProto field holds a data type's values when raw_data is not used. */
export type TypedField = 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' | 'stringData';

export interface DataTypeInfo {
  readonly code: number;
  /** Lower-case short name as ONNX Runtime prints it: float32, float16, int4, ... */
  readonly name: string;
  /** Bits per element in raw_data; sub-byte types are packed low bits first. 0 for strings. */
  readonly bits: number;
  readonly typedField: TypedField;
  /** Elements held by one entry of the typed field (two int4 per int32, two floats per complex64...). */
  readonly elementsPerFieldEntry: number;
  readonly isFloat: boolean;
  readonly isInteger: boolean;
}

function info(code: number, name: string, bits: number, typedField: TypedField, kind: 'float' | 'int' | 'other', elementsPerFieldEntry = 1): DataTypeInfo {
  return { code, name, bits, typedField, elementsPerFieldEntry, isFloat: kind === 'float', isInteger: kind === 'int' };
}

const DATA_TYPES: readonly DataTypeInfo[] = [
  info(T.FLOAT, 'float32', 32, 'floatData', 'float'),
  info(T.UINT8, 'uint8', 8, 'int32Data', 'int'),
  info(T.INT8, 'int8', 8, 'int32Data', 'int'),
  info(T.UINT16, 'uint16', 16, 'int32Data', 'int'),
  info(T.INT16, 'int16', 16, 'int32Data', 'int'),
  info(T.INT32, 'int32', 32, 'int32Data', 'int'),
  info(T.INT64, 'int64', 64, 'int64Data', 'int'),
  info(T.STRING, 'string', 0, 'stringData', 'other'),
  info(T.BOOL, 'bool', 8, 'int32Data', 'other'),
  info(T.FLOAT16, 'float16', 16, 'int32Data', 'float'),
  info(T.DOUBLE, 'float64', 64, 'doubleData', 'float'),
  info(T.UINT32, 'uint32', 32, 'uint64Data', 'int'),
  info(T.UINT64, 'uint64', 64, 'uint64Data', 'int'),
  // A complex element is two values (real, imaginary) of the typed field.
  info(T.COMPLEX64, 'complex64', 64, 'floatData', 'other', 0.5),
  info(T.COMPLEX128, 'complex128', 128, 'doubleData', 'other', 0.5),
  info(T.BFLOAT16, 'bfloat16', 16, 'int32Data', 'float'),
  info(T.FLOAT8E4M3FN, 'float8e4m3fn', 8, 'int32Data', 'float'),
  info(T.FLOAT8E4M3FNUZ, 'float8e4m3fnuz', 8, 'int32Data', 'float'),
  info(T.FLOAT8E5M2, 'float8e5m2', 8, 'int32Data', 'float'),
  info(T.FLOAT8E5M2FNUZ, 'float8e5m2fnuz', 8, 'int32Data', 'float'),
  info(T.UINT4, 'uint4', 4, 'int32Data', 'int', 2),
  info(T.INT4, 'int4', 4, 'int32Data', 'int', 2),
  info(T.FLOAT4E2M1, 'float4e2m1', 4, 'int32Data', 'float', 2),
  info(T.FLOAT8E8M0, 'float8e8m0', 8, 'int32Data', 'float'),
  info(T.UINT2, 'uint2', 2, 'int32Data', 'int', 4),
  info(T.INT2, 'int2', 2, 'int32Data', 'int', 4),
];

const BY_CODE = new Map(DATA_TYPES.map((type) => [type.code, type]));

export function dataTypeInfo(code: number): DataTypeInfo | undefined {
  return BY_CODE.get(code);
}

export function allDataTypes(): readonly DataTypeInfo[] {
  return DATA_TYPES;
}

export function dataTypeName(code: number): string {
  return BY_CODE.get(code)?.name ?? `unknown data type ${code}`;
}

/** Bytes that `elementCount` elements occupy in raw_data (sub-byte types rounded up to whole bytes). */
export function rawByteLength(type: DataTypeInfo, elementCount: number): number {
  return Math.ceil((elementCount * type.bits) / 8);
}
