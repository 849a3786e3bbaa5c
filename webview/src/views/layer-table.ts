import type { Delta, LayerRow, LayerStatistics } from '../../../src/shared/protocol';
import { h } from '../dom';
import { formatBytes, formatCount, formatDb, formatPercent } from '../format';
import { histogramBars } from './charts';
import { layerDeltaText } from './header';

const ROW_HEIGHT = 28;
const OVERSCAN_ROWS = 10;

export interface TableData {
  readonly layers: readonly LayerRow[];
  readonly statistics: ReadonlyMap<string, LayerStatistics>;
  readonly deltas: ReadonlyMap<string, Delta>;
  readonly selectedId?: string;
}

const KEYBOARD_HELP = 'Layers: arrow keys move the selection, Ctrl+arrow keys move the cursor alone, Enter or Space selects, Shift+F10 opens the layer menu';

const COLUMNS = ['Layer', 'Op', 'Shape', 'Type', 'Params', 'Bytes', 'Sparsity', 'Histogram', 'Prunable', 'int8 SQNR', 'Change'];

/**
 * The layer table, virtualised: only the rows in view (and a few either side)
 * exist in the DOM, so thousands of layers scroll smoothly.
 */
export class LayerTable {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rows: HTMLElement;
  private data: TableData = { layers: [], statistics: new Map(), deltas: new Map() };
  /** The row under the keyboard cursor: it follows the selection, and Ctrl+arrows move it alone. */
  private cursorId?: string;
  private renderScheduled = false;

  constructor(private readonly onSelect: (layerId: string) => void) {
    this.rows = h('div', { class: 'rows', role: 'rowgroup' });
    this.spacer = h('div', { class: 'spacer' }, this.rows);
    // The header scrolls sideways with the rows and stays on top when they scroll down.
    const header = h('div', { class: 'row head', role: 'row' }, ...COLUMNS.map((title) => h('div', { class: 'cell', role: 'columnheader' }, title)));
    this.viewport = h('div', { class: 'viewport', tabindex: 0, 'aria-label': KEYBOARD_HELP }, header, this.spacer);
    this.element = h('div', { class: 'layer-table', role: 'grid', 'aria-rowcount': 0, 'data-testid': 'layer-table' }, this.viewport);
    this.viewport.addEventListener('scroll', () => this.render());
    this.viewport.addEventListener('keydown', (event) => this.onKey(event));
    new ResizeObserver(() => this.render()).observe(this.viewport);
  }

  update(data: TableData): void {
    if (data.selectedId !== this.data.selectedId || !data.layers.some((layer) => layer.id === this.cursorId)) this.cursorId = data.selectedId;
    this.data = data;
    this.element.setAttribute('aria-rowcount', String(data.layers.length));
    this.spacer.style.height = `${data.layers.length * ROW_HEIGHT}px`;
    this.scheduleRender();
  }

  /** Updates come in bursts while statistics stream in: the rows are drawn once per frame, not once per update. */
  private scheduleRender(): void {
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    requestAnimationFrame(() => {
      this.renderScheduled = false;
      this.render();
    });
  }

  private render(): void {
    const { layers } = this.data;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_HEIGHT) - OVERSCAN_ROWS);
    // Rows sit below the sticky header, which takes one row's height.
    const visible = Math.ceil(this.viewport.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN_ROWS;
    const last = Math.min(layers.length, first + visible);
    this.rows.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    this.rows.replaceChildren(...layers.slice(first, last).map((layer, offset) => this.renderRow(layer, first + offset)));
    const cursorRow = this.cursorRow();
    if (cursorRow) this.viewport.setAttribute('aria-activedescendant', cursorRow.id);
    else this.viewport.removeAttribute('aria-activedescendant');
  }

  private renderRow(layer: LayerRow, index: number): HTMLElement {
    const statistics = this.data.statistics.get(layer.id);
    const delta = this.data.deltas.get(layer.id);
    const selected = layer.id === this.data.selectedId;
    const cursor = layer.id === this.cursorId;
    const row = h('div', {
      id: `layer-row-${index}`, class: `row${selected ? ' selected' : ''}${cursor ? ' cursor' : ''}`, role: 'row',
      'aria-rowindex': index + 1, 'aria-selected': String(selected),
      'data-layer-id': layer.id, 'data-vscode-context': JSON.stringify(menuContext(layer)),
    },
    cell(layer.name, layer.scope ? `${layer.scope} / ${layer.name}` : layer.name),
    cell(layer.opType), cell(`[${layer.shape.join('×')}]`), cell(layer.dataType),
    cell(formatCount(layer.parameters), undefined, 'number'), cell(formatBytes(layer.bytes), undefined, 'number'),
    cell(statistics ? formatPercent(statistics.sparsity, 1) : '…', undefined, 'number'),
    h('div', { class: 'cell spark', role: 'gridcell' }, statistics ? histogramBars(statistics.histogram, 96, 18, `Histogram of ${layer.weightName}`) : '…'),
    cell(statistics ? `${formatPercent(statistics.prunableSparsity)} at 1%` : '…', 'Largest sparsity that removes at most 1% of the L2 energy', 'number'),
    cell(statistics ? formatDb(statistics.int8Sqnr) : '…', undefined, 'number'),
    cell(delta ? layerDeltaText(delta) : '', undefined, 'delta'));
    row.addEventListener('click', () => {
      this.cursorId = layer.id;
      this.onSelect(layer.id);
    });
    return row;
  }

  private onKey(event: KeyboardEvent): void {
    const { layers } = this.data;
    if (layers.length === 0) return;
    const current = Math.max(0, layers.findIndex((layer) => layer.id === this.cursorId));
    const moves = this.moves();
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.onSelect(layers[current].id);
    } else if (event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey)) {
      // Handled here, the browser opens no menu of its own on the table; VS Code's opens on the cursor row.
      event.preventDefault();
      this.openRowMenu(current);
    } else if (event.key in moves) {
      event.preventDefault();
      const next = Math.min(layers.length - 1, Math.max(0, current + moves[event.key]));
      this.cursorId = layers[next].id;
      this.scrollIntoView(next);
      if (event.ctrlKey || event.metaKey) this.render();
      else this.onSelect(layers[next].id);
    }
  }

  private moves(): Record<string, number> {
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
    const all = this.data.layers.length;
    return { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -all, End: all };
  }

  /** VS Code shows its webview context menu for a contextmenu event, with the data-vscode-context of the target's row. */
  private openRowMenu(index: number): void {
    this.scrollIntoView(index);
    this.render();
    const row = this.cursorRow();
    if (!row) return;
    const box = row.getBoundingClientRect();
    row.dispatchEvent(new MouseEvent('contextmenu', { bubbles: true, cancelable: true, clientX: box.left + 24, clientY: box.bottom }));
  }

  private cursorRow(): HTMLElement | undefined {
    return [...this.rows.children].find((row) => (row as HTMLElement).dataset.layerId === this.cursorId) as HTMLElement | undefined;
  }

  private scrollIntoView(index: number): void {
    const top = index * ROW_HEIGHT;
    const visibleRowsHeight = this.viewport.clientHeight - ROW_HEIGHT;
    if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > this.viewport.scrollTop + visibleRowsHeight) this.viewport.scrollTop = top + ROW_HEIGHT - visibleRowsHeight;
  }
}

function cell(text: string, title?: string, kind?: string): HTMLElement {
  return h('div', { class: `cell${kind ? ` ${kind}` : ''}`, role: 'gridcell', title: title ?? text }, text);
}

/** What VS Code's webview/context menus see when the row is right-clicked; `when` clauses test these keys. */
function menuContext(layer: LayerRow): Record<string, string | boolean> {
  const context: Record<string, string | boolean> = { webviewSection: 'layer', layerId: layer.id, preventDefaultContextMenuItems: true };
  // quantize-int8 -> canQuantizeInt8, the context key the menus' when clauses test.
  for (const availability of layer.actions) context[`can-${availability.action}`.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())] = availability.applicable;
  return context;
}
