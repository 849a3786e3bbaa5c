import type { Delta, OverviewSummary } from '../../../src/shared/protocol';
import { h } from '../dom';
import { formatBytes, formatChange, formatCount, formatDb } from '../format';

export function renderHeader(overview: OverviewSummary, modelDelta: Delta | undefined, dirty: boolean): HTMLElement {
  const io = (label: string, values: OverviewSummary['inputs']) =>
    h('div', { class: 'io' }, h('span', { class: 'key' }, label), ...values.map((value) => h('code', {}, `${value.name}: ${value.type}`)));
  return h('header', { class: 'overview', 'data-testid': 'overview' },
    h('h1', {}, overview.fileName, dirty ? h('span', { class: 'dirty', title: 'Unsaved changes' }, ' ●') : undefined),
    h('div', { class: 'facts' },
      fact('Producer', overview.producer || '(not stated)'),
      fact('IR', String(overview.irVersion)),
      fact('Opsets', overview.opsets.join(', ')),
      fact('Parameters', formatCount(overview.parameterCount)),
      fact('File', formatBytes(overview.fileBytes)),
      fact('Nodes', `${overview.nodeCount} in ${overview.graphCount} graph${overview.graphCount === 1 ? '' : 's'}`)),
    io('Inputs', overview.inputs),
    io('Outputs', overview.outputs),
    h('div', { class: 'chips' }, ...overview.byDataType.map((entry) =>
      h('span', { class: 'chip' }, `${entry.dataType} ${formatCount(entry.parameters)} · ${formatBytes(entry.bytes)}`))),
    h('div', { class: 'chips ops' }, ...overview.opTypeCounts.slice(0, 12).map((op) => h('span', { class: 'chip' }, `${op.opType} ${op.count}`))),
    modelDelta ? renderModelDelta(modelDelta) : undefined,
  );
}

function fact(label: string, value: string): HTMLElement {
  return h('div', { class: 'fact' }, h('span', { class: 'key' }, label), h('span', { class: 'value' }, value));
}

function renderModelDelta(delta: Delta): HTMLElement {
  const parts = [`Size ${formatBytes(delta.bytesBefore)} → ${formatBytes(delta.bytesAfter)} (${formatChange(delta.bytesBefore, delta.bytesAfter)})`];
  if (delta.gzipBefore !== undefined && delta.gzipAfter !== undefined) {
    parts.push(`gzip ${formatBytes(delta.gzipBefore)} → ${formatBytes(delta.gzipAfter)} (${formatChange(delta.gzipBefore, delta.gzipAfter)})`);
  }
  if (delta.latency) {
    const { ratio, low, high, withinNoise } = delta.latency;
    const percent = (value: number) => `${value >= 1 ? '+' : '−'}${Math.abs((value - 1) * 100).toFixed(0)}%`;
    parts.push(`Latency ${percent(ratio)} (${percent(low)}…${percent(high)})${withinNoise ? ', within noise' : ''}`);
  }
  if (delta.fidelity) parts.push(`Fidelity cosine ${delta.fidelity.cosine.toFixed(4)}, max error ${delta.fidelity.maxAbsError.toPrecision(3)}`);
  if (delta.sqnr !== undefined) parts.push(`SQNR ${formatDb(delta.sqnr)}`);
  return h('div', { class: 'model-delta', role: 'status', 'data-testid': 'model-delta' }, h('strong', {}, delta.label), ` · ${parts.join(' · ')}`);
}

/** The inline delta on a layer row, e.g. "int8 · 2.4 MB → 0.6 MB (−75%) · SQNR 41 dB". */
export function layerDeltaText(delta: Delta): string {
  const parts = [delta.label, `${formatBytes(delta.bytesBefore)} → ${formatBytes(delta.bytesAfter)} (${formatChange(delta.bytesBefore, delta.bytesAfter)})`];
  if (delta.sqnr !== undefined) parts.push(`SQNR ${formatDb(delta.sqnr)}`);
  return parts.join(' · ');
}
