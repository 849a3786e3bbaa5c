import type { Histogram, SensitivityPoint } from '../../../src/shared/protocol';
import { svg } from '../dom';

/** Bars scaled to the tallest bin; heights use a square root so that small bins stay visible. */
export function histogramBars(histogram: Histogram, width: number, height: number, label: string, marker?: number): SVGElement {
  const counts = histogram.counts;
  const tallest = Math.max(1, ...counts);
  const barWidth = width / Math.max(1, counts.length);
  const bars = counts.map((count, index) => {
    const barHeight = count === 0 ? 0 : Math.max(1, (Math.sqrt(count) / Math.sqrt(tallest)) * height);
    return svg('rect', { x: index * barWidth, y: height - barHeight, width: Math.max(1, barWidth - 0.5), height: barHeight, class: 'bar' });
  });
  const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label }, ...bars);
  if (marker !== undefined && histogram.max > histogram.min) {
    const x = ((marker - histogram.min) / (histogram.max - histogram.min)) * width;
    chart.append(svg('line', { x1: x, x2: x, y1: 0, y2: height, class: 'marker' }));
  }
  return chart;
}

/** Energy removed against sparsity, both from 0 to 1. */
export function sensitivityCurve(points: readonly SensitivityPoint[], width: number, height: number): SVGElement {
  const coordinates = [{ sparsity: 0, energyRemoved: 0 }, ...points]
    .map((point) => `${(point.sparsity * width).toFixed(1)},${(height - point.energyRemoved * height).toFixed(1)}`).join(' ');
  return svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Energy removed by sparsity' },
    svg('line', { x1: 0, y1: height - 0.01 * height, x2: width, y2: height - 0.01 * height, class: 'guide' }),
    svg('polyline', { points: coordinates, class: 'curve' }));
}

export function channelBars(norms: readonly number[], width: number, height: number): SVGElement {
  return histogramBars({ min: 0, max: norms.length, counts: norms.map((norm) => norm * norm) }, width, height, 'Per-channel L2 norms');
}
