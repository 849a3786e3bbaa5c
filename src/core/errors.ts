/**
 * Typed errors thrown by the core. Every message names what is wrong and
 * where (byte offset, tensor, node or file) and ends with a period; only the
 * extension layer decides how to show them.
 */
export abstract class OnnxLensError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes are not a well-formed ONNX ModelProto. */
export class ModelFormatError extends OnnxLensError {
  readonly code = 'model-format';

  constructor(message: string, readonly byteOffset?: number) {
    super(message);
  }
}

/** A tensor's declared type or shape does not agree with its data. */
export class TensorDataError extends OnnxLensError {
  readonly code = 'tensor-data';

  constructor(message: string, readonly tensorName: string) {
    super(message);
  }
}

/** A tensor's external data cannot be located or read safely. */
export class ExternalDataError extends OnnxLensError {
  readonly code = 'external-data';

  constructor(message: string, readonly tensorName: string, readonly location?: string) {
    super(message);
  }
}

/** Reading or writing a model file failed. */
export class ModelFileError extends OnnxLensError {
  readonly code = 'model-file';

  constructor(message: string, readonly path: string) {
    super(message);
  }
}

/** A caller passed an argument outside what the function accepts. */
export class InvalidArgumentError extends OnnxLensError {
  readonly code = 'invalid-argument';
}

/** Quotes an untrusted name for an error message, bounded in length. */
export function quote(name: string | undefined | null): string {
  if (!name) return '(unnamed)';
  const shown = name.length > 80 ? `${name.slice(0, 77)}...` : name;
  return JSON.stringify(shown);
}
