import Long from 'long';
import { ModelFormatError } from '../errors';
import descriptor from '../proto/generated/onnx-descriptor.json';

interface DescriptorNamespace {
  fields?: Record<string, { id: number }>;
  nested?: Record<string, DescriptorNamespace>;
}

const knownFieldIdsByType = indexFieldIds(descriptor as DescriptorNamespace);

function indexFieldIds(root: DescriptorNamespace): Map<string, Set<number>> {
  const index = new Map<string, Set<number>>();
  const visit = (node: DescriptorNamespace, fullName: string) => {
    if (node.fields) index.set(fullName, new Set(Object.values(node.fields).map((field) => field.id)));
    for (const [name, child] of Object.entries(node.nested ?? {})) {
      visit(child, fullName ? `${fullName}.${name}` : name);
    }
  };
  visit(root, '');
  return index;
}

interface DecodedMessage {
  constructor: { getTypeUrl?: (prefix: string) => string };
  $unknowns?: Uint8Array[];
}

function typeNameOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Long.isLong(value) || ArrayBuffer.isView(value)) return undefined;
  const getTypeUrl = (value as DecodedMessage).constructor?.getTypeUrl;
  // getTypeUrl('') answers "/onnx.TensorProto".
  return getTypeUrl ? getTypeUrl('').slice(1) : undefined;
}

/**
 * protobufjs keeps a field whose wire type does not match the schema as an
 * unknown field instead of failing. A field number the schema knows arriving
 * that way means the bytes are corrupt, so it is reported with its offset;
 * field numbers the schema does not know (a newer IR) are kept as they are.
 */
export function checkKnownFieldsWereDecoded(model: object, fileBytes: Uint8Array): void {
  const pending: object[] = [model];
  while (pending.length > 0) {
    const message = pending.pop() as DecodedMessage;
    const typeName = typeNameOf(message);
    if (!typeName) continue;
    for (const unknown of message.$unknowns ?? []) {
      reportIfKnownField(typeName, unknown, fileBytes);
    }
    for (const value of Object.values(message)) {
      if (Array.isArray(value)) {
        // One push per element: spreading a million nodes into push() overflows the stack.
        if (value.length > 0 && typeNameOf(value[0])) for (const item of value) pending.push(item);
      } else if (typeNameOf(value)) {
        pending.push(value);
      }
    }
  }
}

function reportIfKnownField(typeName: string, unknown: Uint8Array, fileBytes: Uint8Array): void {
  const { fieldNumber, wireType } = readTag(unknown);
  if (!knownFieldIdsByType.get(typeName)?.has(fieldNumber)) return;
  const offset = unknown.byteOffset - fileBytes.byteOffset;
  const shortName = typeName.replace(/^onnx\./, '');
  throw new ModelFormatError(
    `Not a valid ONNX model: field ${fieldNumber} of ${shortName} at byte offset ${offset} has wire type ${wireType}, which that field cannot have.`,
    offset,
  );
}

function readTag(bytes: Uint8Array): { fieldNumber: number; wireType: number } {
  let tag = 0;
  for (let i = 0, shift = 0; i < bytes.length && i < 5; i++, shift += 7) {
    tag += (bytes[i] & 0x7f) * 2 ** shift;
    if (bytes[i] < 0x80) break;
  }
  return { fieldNumber: Math.floor(tag / 8), wireType: tag % 8 };
}
