import Long from 'long';

/** An int64 as protobufjs decodes it (always a Long: the codec is generated with --force-long). */
export type Int64 = Long | number;

/** Converts an int64 to a JS number, or returns undefined when it is not exactly representable. */
export function int64ToSafeNumber(value: Int64): number | undefined {
  const asNumber = typeof value === 'number' ? value : value.toNumber();
  return Number.isSafeInteger(asNumber) ? asNumber : undefined;
}

export function int64ToBigInt(value: Int64): bigint {
  return typeof value === 'number' ? BigInt(value) : BigInt(value.toString());
}

export function toLong(value: number | bigint): Long {
  return Long.fromString(value.toString());
}
