import type { LayerAction, LayerRow, LayerStatistics } from '../../../src/shared/protocol';
import { h } from '../dom';
import { formatDb, formatPercent } from '../format';
import { button } from '../ui/button';
import { select } from '../ui/select';
import { channelBars, histogramBars, sensitivityCurve } from './charts';

export interface DetailActions {
  run(action: LayerAction, value?: number): void;
}

type Scale = 'linear' | 'log';

const ACTION_BUTTONS: { action: LayerAction; label: string }[] = [
  { action: 'quantize-int8', label: 'Quantize int8' },
  { action: 'quantize-dynamic', label: 'Dynamic int8' },
  { action: 'quantize-fp16', label: 'float16' },
  { action: 'quantize-int4', label: 'int4 (block 32)' },
  { action: 'prune-sparsity', label: 'Prune to sparsity' },
  { action: 'prune-channels', label: 'Prune 25% of channels' },
  { action: 'measure', label: "Measure this layer's effect" },
];

const CHANNEL_FRACTION = 0.25;

/** The selected layer: full histogram, a live threshold, the sensitivity curve, channel norms and the actions. */
export class DetailPane {
  readonly element = h('section', { class: 'detail', 'aria-label': 'Selected layer', 'data-testid': 'detail' });
  private scale: Scale = 'linear';
  private sliderPosition = 0;
  private shown?: { layer?: LayerRow; statistics?: LayerStatistics };

  constructor(private readonly actions: DetailActions) {}

  show(layer: LayerRow | undefined, statistics: LayerStatistics | undefined): void {
    // Rebuilding only on change keeps the slider and focus steady while other layers stream in.
    if (this.shown && this.shown.layer === layer && this.shown.statistics === statistics) return;
    this.shown = { layer, statistics };
    if (!layer) {
      this.element.replaceChildren(h('p', { class: 'hint' }, 'Select a layer to see its weights.'));
      return;
    }
    this.element.replaceChildren(
      h('h2', {}, layer.name, h('span', { class: 'muted' }, ` ${layer.opType} · ${layer.weightName} [${layer.shape.join('×')}] ${layer.dataType}`)),
      statistics ? this.renderStatistics(statistics) : h('p', { class: 'hint' }, 'Analysing…'),
      this.renderActions(layer, statistics));
  }

  private renderStatistics(statistics: LayerStatistics): HTMLElement {
    const histogram = this.scale === 'linear' ? statistics.histogram : statistics.logHistogram;
    return h('div', { class: 'statistics' },
      h('div', { class: 'facts' },
        `mean ${statistics.mean.toPrecision(3)} · std ${statistics.std.toPrecision(3)} · range [${statistics.min.toPrecision(3)}, ${statistics.max.toPrecision(3)}]`,
        ` · zeros ${formatPercent(statistics.sparsity, 1)} · int8 SQNR ${formatDb(statistics.int8Sqnr)} per tensor, ${formatDb(statistics.int8PerChannelSqnr)} per channel`,
        statistics.deadChannels > 0 ? ` · ${statistics.deadChannels} dead channels` : '',
        statistics.outlierChannels ? ' · outlier channels: per-tensor int8 loses over 6 dB against per-channel' : ''),
      h('div', { class: 'chart-head' }, h('span', {}, this.scale === 'linear' ? 'Histogram of w' : 'Histogram of log10 |w|'),
        select<Scale>([{ value: 'linear', label: 'Linear' }, { value: 'log', label: 'Log magnitude' }], this.scale, (scale) => {
          this.scale = scale;
          this.refreshChart(statistics);
        }, 'Histogram scale')),
      h('div', { class: 'chart', 'data-testid': 'histogram' }, histogramBars(histogram, 480, 120, 'Weight histogram')),
      this.renderThreshold(statistics),
      h('div', { class: 'chart-head' }, 'Energy removed by magnitude pruning (the line marks 1%)'),
      h('div', { class: 'chart' }, sensitivityCurve(statistics.curve, 480, 100)),
      statistics.channelNorms.length > 0 ? h('div', { class: 'chart-head' }, `Per-channel L2 norms (${statistics.channelNorms.length} channels)`) : undefined,
      statistics.channelNorms.length > 0 ? h('div', { class: 'chart' }, channelBars(statistics.channelNorms, 480, 60)) : undefined);
  }

  private refreshChart(statistics: LayerStatistics): void {
    const layerTitle = this.element.querySelector('h2');
    this.element.querySelector('.statistics')?.replaceWith(this.renderStatistics(statistics));
    layerTitle?.focus();
  }

  /** The slider walks the host's threshold table, so sparsity and energy are answered without a round trip. */
  private renderThreshold(statistics: LayerStatistics): HTMLElement {
    const { thresholds, sparsity, energy, resolution } = statistics.thresholdTable;
    const last = thresholds.length - 1;
    this.sliderPosition = Math.min(this.sliderPosition, last);
    const readout = h('output', { 'data-testid': 'threshold-readout' });
    const slider = h('input', { type: 'range', min: 0, max: last, step: 1, value: this.sliderPosition, 'aria-label': 'Pruning threshold' });
    const update = () => {
      this.sliderPosition = Number(slider.value);
      readout.textContent = `|w| < ${thresholds[this.sliderPosition].toPrecision(3)}: ${formatPercent(sparsity[this.sliderPosition], 1)} of weights, `
        + `${formatPercent(energy[this.sliderPosition], 2)} of L2 energy (±${formatPercent(resolution, 1)})`;
    };
    slider.addEventListener('input', update);
    update();
    const prune = button({ label: 'Prune below threshold', onClick: () => this.actions.run('prune-threshold', thresholds[this.sliderPosition]), testId: 'prune-threshold' });
    return h('div', { class: 'threshold' }, slider, readout, prune);
  }

  private renderActions(layer: LayerRow, statistics: LayerStatistics | undefined): HTMLElement {
    const valueFor = (action: LayerAction) => {
      if (action === 'prune-channels') return CHANNEL_FRACTION;
      if (action === 'prune-sparsity' && statistics) return statistics.prunableSparsity;
      return undefined;
    };
    return h('div', { class: 'actions' }, ...ACTION_BUTTONS.map(({ action, label }) => {
      const availability = layer.actions.find((entry) => entry.action === action);
      const shownLabel = action === 'prune-sparsity' && statistics ? `${label} ${formatPercent(statistics.prunableSparsity)}` : label;
      return button({
        label: shownLabel, secondary: !action.startsWith('quantize'), testId: action,
        disabledReason: availability?.applicable === false ? availability.reason ?? 'Not available for this layer.' : undefined,
        onClick: () => this.actions.run(action, valueFor(action)),
      });
    }));
  }
}
