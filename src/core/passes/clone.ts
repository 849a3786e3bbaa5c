import Long from 'long';

/** Fields that hold tensor values: a pass's output shares them with its input instead of copying them. */
const SHARED_FIELDS = new Set(['rawData', 'floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data', 'stringData', '$unknowns']);

/**
 * Copies every message of a decoded model (graphs, nodes, attributes, tensor
 * headers) so that a pass can rewrite the copy, while tensor values stay shared
 * with the original. Messages keep their prototypes, so the copy encodes like
 * the original, unknown fields included.
 */
export function cloneStructure<T extends object>(message: T): T {
  return cloneValue(message) as T;
}

function cloneValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || Long.isLong(value)) return value;
  if (Array.isArray(value)) return value.map(cloneValue);
  const copy = Object.create(Object.getPrototypeOf(value)) as object;
  for (const key of Object.getOwnPropertyNames(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!SHARED_FIELDS.has(key)) descriptor.value = cloneValue(descriptor.value);
    Object.defineProperty(copy, key, descriptor);
  }
  return copy;
}
