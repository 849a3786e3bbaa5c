import { int64ToSafeNumber } from '../onnx/int64';
import { onnx } from '../proto';
import { dataTypeName } from '../tensor/dtypes';
import { forEachGraphScope, nodeLabel } from './graph-walk';
import { describeType } from './overview';

const A = onnx.AttributeProto.AttributeType;
const INDENT = '  ';
const MAX_LIST_SHOWN = 8;

/** One line of the text view; node lines know which node they show. */
export interface TextLine {
  readonly text: string;
  readonly node?: { readonly scope: string; readonly label: string };
}

/**
 * The model in ONNX's textual syntax (as onnx.parser reads it), one line per
 * node, subgraphs indented under their node. Tensor values are summarised,
 * not printed. Untrusted names are kept to one line each.
 */
export function modelToText(model: onnx.IModelProto): TextLine[] {
  const lines: TextLine[] = [
    { text: '<' },
    { text: `${INDENT}ir_version: ${int64ToSafeNumber(model.irVersion ?? 0) ?? 0},` },
    { text: `${INDENT}opset_import: [${(model.opsetImport ?? []).map((o) => `${JSON.stringify(o.domain ?? '')} : ${String(o.version)}`).join(', ')}],` },
    { text: `${INDENT}producer_name: ${JSON.stringify(oneLine(model.producerName ?? ''))}` },
    { text: '>' },
  ];
  if (model.graph) addGraphLines(lines, model.graph, 'main', '');
  forEachGraphScope(model, (scope) => {
    if (scope.graph || scope.parent) return;
    lines.push({ text: '' }, { text: `${scope.path.replace(/^function /, '<function ')}>` }, { text: '{' });
    scope.nodes.forEach((node, index) => addNodeLines(lines, node, index, scope.path, INDENT));
    lines.push({ text: '}' });
  });
  return lines;
}

// The add* functions append to `lines` rather than return arrays to spread: spreading a million lines into push() overflows the stack.
function addGraphLines(lines: TextLine[], graph: onnx.IGraphProto, scope: string, indent: string): void {
  const values = (list: onnx.IValueInfoProto[] | null | undefined) => (list ?? []).map((v) => `${describeType(v.type ?? undefined)} ${name(v.name)}`).join(', ');
  const initializers = (graph.initializer ?? []).map((t) => `${dataTypeName(t.dataType ?? 0)}[${(t.dims ?? []).join(',')}] ${name(t.name)}`);
  lines.push({ text: `${indent}${name(graph.name || 'graph')} (${values(graph.input)}) => (${values(graph.output)})` });
  if (initializers.length > 0) lines.push({ text: `${indent}${INDENT}<${initializers.join(', ')}>` });
  lines.push({ text: `${indent}{` });
  (graph.node ?? []).forEach((node, index) => addNodeLines(lines, node, index, scope, indent + INDENT));
  lines.push({ text: `${indent}}` });
}

function addNodeLines(lines: TextLine[], node: onnx.INodeProto, index: number, scope: string, indent: string): void {
  const label = nodeLabel(node, index);
  const op = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType ?? '';
  const attributes = (node.attribute ?? []).filter((a) => !a.g && !(a.graphs ?? []).length).map(attributeText);
  const outputs = (node.output ?? []).map(name).join(', ');
  const text = `${indent}${outputs} = ${op}${attributes.length ? ` <${attributes.join(', ')}>` : ''} (${(node.input ?? []).map(name).join(', ')})`;
  lines.push({ text, node: { scope, label } });
  for (const attribute of node.attribute ?? []) {
    const graphs = attribute.g ? [attribute.g] : attribute.graphs ?? [];
    graphs.forEach((graph, position) => {
      const suffix = attribute.g ? attribute.name ?? '' : `${attribute.name ?? ''}[${position}]`;
      lines.push({ text: `${indent}${INDENT}${name(suffix)}: graph =` });
      addGraphLines(lines, graph, `${scope}/${label}.${suffix}`, indent + INDENT + INDENT);
    });
  }
}

function attributeText(attribute: onnx.IAttributeProto): string {
  const key = name(attribute.name);
  const list = (values: unknown[], type: string) =>
    `${key}: ${type} = [${values.slice(0, MAX_LIST_SHOWN).map(String).join(', ')}${values.length > MAX_LIST_SHOWN ? ', …' : ''}]`;
  switch (attribute.type) {
    case A.INT: return `${key}: int = ${String(attribute.i)}`;
    case A.FLOAT: return `${key}: float = ${attribute.f}`;
    case A.STRING: return `${key}: string = ${JSON.stringify(oneLine(new TextDecoder().decode(attribute.s ?? new Uint8Array())))}`;
    case A.INTS: return list(attribute.ints ?? [], 'ints');
    case A.FLOATS: return list(attribute.floats ?? [], 'floats');
    case A.STRINGS: return `${key}: strings = [${(attribute.strings ?? []).length} strings]`;
    case A.TENSOR: return `${key}: tensor = ${dataTypeName(attribute.t?.dataType ?? 0)}[${(attribute.t?.dims ?? []).join(',')}] {…}`;
    default: return `${key}: ${attributeTypeName(attribute.type ?? 0)}`;
  }
}

function attributeTypeName(type: number): string {
  return (Object.entries(A).find(([, value]) => value === type)?.[0] ?? 'undefined').toLowerCase();
}

/** Names outside [A-Za-z0-9_.] are quoted so that the line stays parseable and on one line. */
function name(text: string | null | undefined): string {
  const value = oneLine(text ?? '');
  return /^[A-Za-z_][\w.]*$/.test(value) ? value : JSON.stringify(value);
}

function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}
