import { Reader, Writer } from 'protobufjs/minimal';
import { ModelFormatError } from '../errors';
import { onnx } from '../proto';
import { checkKnownFieldsWereDecoded } from './wire-check';

/**
 * Decodes a ModelProto from bytes. Byte fields (raw_data above all) are views
 * into `bytes`, not copies, so the caller must keep `bytes` unchanged.
 * Fields this schema does not know are kept and written back by encodeModel.
 */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  const reader = Reader.create(bytes);
  reader.discardUnknown = false;
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(reader);
  } catch (error) {
    throw describeDecodeFailure(error, reader.pos, bytes.length);
  }
  checkKnownFieldsWereDecoded(model, bytes);
  return model;
}

export function encodeModel(model: onnx.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model, Writer.create()).finish();
}

function describeDecodeFailure(error: unknown, offset: number, length: number): ModelFormatError {
  const detail = error instanceof Error ? error.message : String(error);
  if (/max depth/.test(detail)) {
    return new ModelFormatError(`Not a valid ONNX model: messages are nested deeper than 100 levels near byte offset ${offset}.`, offset);
  }
  if (/index out of range/.test(detail)) {
    return new ModelFormatError(`Not a valid ONNX model: a field near byte offset ${offset} runs past the end of the ${length}-byte file (truncated or corrupt).`, offset);
  }
  if (/invalid wire type|missing end group|illegal/i.test(detail)) {
    return new ModelFormatError(`Not a valid ONNX model: malformed protobuf near byte offset ${offset} (${detail}).`, offset);
  }
  return new ModelFormatError(`Not a valid ONNX model: decoding stopped near byte offset ${offset} (${detail}).`, offset);
}
