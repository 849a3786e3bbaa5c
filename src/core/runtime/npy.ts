/**
 * Reads NumPy's .npy format (versions 1 to 3): a magic string, a header that
 * is a Python dict literal (descr, fortran_order, shape), then the values.
 */
import { quote } from '../errors';
import { ElementType, TensorData } from './protocol';
import { InputDataError } from './runtime-errors';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const PREAMBLE_BYTES = MAGIC.length + 2;

type ArrayConstructor = new (buffer: ArrayBuffer) => Exclude<TensorData, string[]>;

/** Little-endian (or byte-sized) dtypes, as numpy writes them, and what they become. */
const DTYPES: Readonly<Record<string, { type: ElementType; array: ArrayConstructor; bytes: number }>> = {
  '<f4': { type: 'float32', array: Float32Array, bytes: 4 },
  '<f8': { type: 'float64', array: Float64Array, bytes: 8 },
  '<f2': { type: 'float16', array: Uint16Array, bytes: 2 },
  '|i1': { type: 'int8', array: Int8Array, bytes: 1 },
  '|u1': { type: 'uint8', array: Uint8Array, bytes: 1 },
  '<i2': { type: 'int16', array: Int16Array, bytes: 2 },
  '<u2': { type: 'uint16', array: Uint16Array, bytes: 2 },
  '<i4': { type: 'int32', array: Int32Array, bytes: 4 },
  '<u4': { type: 'uint32', array: Uint32Array, bytes: 4 },
  '<i8': { type: 'int64', array: BigInt64Array, bytes: 8 },
  '<u8': { type: 'uint64', array: BigUint64Array, bytes: 8 },
  '|b1': { type: 'bool', array: Uint8Array, bytes: 1 },
};

export interface NpyArray {
  readonly type: ElementType;
  readonly dims: number[];
  readonly data: TensorData;
}

export function parseNpy(bytes: Uint8Array, fileName: string): NpyArray {
  const refuse = (why: string): never => {
    throw new InputDataError(`${quote(fileName)} is not a .npy file ONNX Lens can read: ${why}.`, fileName);
  };
  if (bytes.length < PREAMBLE_BYTES + 2 || MAGIC.some((byte, index) => bytes[index] !== byte)) refuse('it does not start with the .npy magic string');
  const major = bytes[MAGIC.length];
  if (major < 1 || major > 3) refuse(`format version ${major} is unknown`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? view.getUint16(PREAMBLE_BYTES, true) : view.getUint32(PREAMBLE_BYTES, true);
  const dataStart = PREAMBLE_BYTES + lengthBytes + headerLength;
  if (dataStart > bytes.length) refuse('its header runs past the end of the file');
  const header = new TextDecoder().decode(bytes.subarray(PREAMBLE_BYTES + lengthBytes, dataStart));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1] ?? refuse('its header has no descr');
  const dtype = DTYPES[descr.replace(/^=/, '<')] ?? refuse(`dtype ${quote(descr)} is not one of ${Object.keys(DTYPES).join(', ')}`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? refuse('its header has no shape');
  const dims = shapeText.split(',').map((part) => part.trim()).filter(Boolean).map(Number);
  if (dims.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) refuse(`its shape (${shapeText}) is not a list of sizes`);
  if (/'fortran_order':\s*True/.test(header) && dims.filter((dim) => dim > 1).length > 1) refuse('its values are in Fortran (column-major) order');
  const count = dims.reduce((a, b) => a * b, 1);
  const byteLength = count * dtype.bytes;
  if (dataStart + byteLength > bytes.length) refuse(`shape (${dims.join(', ')}) needs ${byteLength} bytes of data, but the file holds ${bytes.length - dataStart}`);
  // A copy (Buffer's slice would be a view): the data's offset in the file need not be aligned for the typed array.
  const data = new dtype.array(new Uint8Array(bytes.subarray(dataStart, dataStart + byteLength)).buffer);
  return { type: dtype.type, dims, data };
}
