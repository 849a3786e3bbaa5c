import type { Delta, HostToWebview, LayerAction, LayerRow, LayerStatistics, OverviewSummary } from '../../src/shared/protocol';
import { h } from './dom';
import { HostClient } from './host';
import { DetailPane } from './views/detail-pane';
import { renderHeader } from './views/header';
import { LayerTable } from './views/layer-table';

interface State {
  overview?: OverviewSummary;
  layers: readonly LayerRow[];
  dirty: boolean;
  statistics: Map<string, LayerStatistics>;
  deltas: Map<string, Delta>;
  modelDelta?: Delta;
  selectedId?: string;
}

const state: State = { layers: [], dirty: false, statistics: new Map(), deltas: new Map() };

const headerSlot = h('div', { class: 'header-slot' });
const status = h('div', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'status' });
const table = new LayerTable((layerId) => select(layerId));
const detail = new DetailPane({ run: (action, value) => runAction(action, value) });
document.body.append(headerSlot, status, h('main', { class: 'split' }, table.element, detail.element));

const host = new HostClient(onEvent);
host.ready();

function onEvent(event: Exclude<HostToWebview, { type: 'response' }>): void {
  switch (event.type) {
    case 'model':
      state.overview = event.overview;
      state.layers = event.layers;
      state.dirty = event.dirty;
      state.statistics.clear();
      state.deltas = new Map(event.deltas.layers.map(({ layerId, delta }) => [layerId, delta]));
      state.modelDelta = event.deltas.model;
      state.selectedId ??= event.layers[0]?.id;
      break;
    case 'statistics':
      for (const statistics of event.statistics) state.statistics.set(statistics.layerId, statistics);
      break;
    case 'progress':
      status.textContent = event.done < event.total ? `${event.message} ${event.done}/${event.total}` : '';
      return;
    case 'deltas':
      state.modelDelta = event.model ?? state.modelDelta;
      for (const { layerId, delta } of event.layers) state.deltas.set(layerId, delta);
      break;
  }
  render();
}

function select(layerId: string): void {
  state.selectedId = layerId;
  render();
  void host.request('select-layer', { layerId });
}

async function runAction(action: LayerAction, value?: number): Promise<void> {
  if (!state.selectedId) return;
  status.textContent = 'Working…';
  try {
    await host.request('run-layer-action', { layerId: state.selectedId, action, value });
    status.textContent = '';
  } catch (error) {
    // The host has already shown the error as a notification; keep a trace here too.
    status.textContent = (error as Error).message;
  }
}

function render(): void {
  if (state.overview) headerSlot.replaceChildren(renderHeader(state.overview, state.modelDelta, state.dirty));
  table.update({ layers: state.layers, statistics: state.statistics, deltas: state.deltas, selectedId: state.selectedId });
  const selected = state.layers.find((layer) => layer.id === state.selectedId);
  detail.show(selected, selected && state.statistics.get(selected.id));
}
