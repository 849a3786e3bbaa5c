import Long from 'long';
import { onnx } from '../proto';

type Int64 = Long | number;

/**
 * Counts the bytes the generated encoder would write, without writing them:
 * what a report needs to state a model's size, at a cost independent of the
 * size of its tensors (protobufjs's writer copies every byte into its buffer).
 * It implements the writer methods the generated onnx code calls.
 */
class LengthCounter {
  length = 0;
  private readonly outer: number[] = [];

  uint32(value: number): this {
    this.length += varint32Length(value >>> 0);
    return this;
  }

  int32(value: number): this {
    this.length += value < 0 ? MAX_VARINT_BYTES : varint32Length(value);
    return this;
  }

  int64(value: Int64): this {
    this.length += varint64Length(value);
    return this;
  }

  uint64(value: Int64): this {
    return this.int64(value);
  }

  float(): this {
    this.length += 4;
    return this;
  }

  double(): this {
    this.length += 8;
    return this;
  }

  string(value: string): this {
    return this.delimited(Buffer.byteLength(value, 'utf8'));
  }

  bytes(value: Uint8Array): this {
    return this.delimited(value.length);
  }

  raw(value: Uint8Array): this {
    this.length += value.length;
    return this;
  }

  floats(values: readonly number[]): this {
    return this.delimited(values.length * 4);
  }

  doubles(values: readonly number[]): this {
    return this.delimited(values.length * 8);
  }

  int32s(values: readonly number[]): this {
    return this.delimited(values.reduce((total: number, value) => total + ((value | 0) < 0 ? MAX_VARINT_BYTES : varint32Length(value | 0)), 0));
  }

  int64s(values: readonly Int64[]): this {
    return this.delimited(values.reduce((total: number, value) => total + varint64Length(value), 0));
  }

  uint64s(values: readonly Int64[]): this {
    return this.int64s(values);
  }

  fork(): this {
    this.outer.push(this.length);
    this.length = 0;
    return this;
  }

  ldelim(): this {
    const inner = this.length;
    this.length = this.outer.pop()!;
    return this.delimited(inner);
  }

  private delimited(length: number): this {
    this.length += varint32Length(length) + length;
    return this;
  }
}

const MAX_VARINT_BYTES = 10;

function varint32Length(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

function varint64Length(value: Int64): number {
  const long = Long.fromValue(value);
  if (long.isNegative()) return MAX_VARINT_BYTES;
  if (long.high === 0) return varint32Length(long.low >>> 0);
  const bits = 64 - Math.clz32(long.high);
  return Math.ceil(bits / 7);
}

/** The byte length of the encoded model, exactly as encodeModel would produce it. */
export function encodedLength(model: onnx.IModelProto): number {
  const counter = new LengthCounter();
  onnx.ModelProto.encode(model, counter as unknown as Parameters<typeof onnx.ModelProto.encode>[1]);
  return counter.length;
}
