/** Plain-text formatting helpers for the command-line tool. */

export function formatCount(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return String(value);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Renders rows as left-aligned columns; numbers are right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const isNumeric = (column: number) => rows.length > 0 && rows.every((row) => /^[-\d.,]+( \w+)?$/.test(row[column]));
  const render = (cells: string[]) =>
    cells.map((cell, column) => (isNumeric(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd();
  return [render(header), render(widths.map((width) => '-'.repeat(width))), ...rows.map(render)].join('\n');
}

/**
 * Makes untrusted model text safe for one terminal line: no control characters,
 * bounded length. Long names keep their start and end, where exporters put what
 * tells layers apart.
 */
export function printable(text: string, max = 60): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  if (clean.length <= max) return clean;
  const head = Math.ceil((max - 1) / 2);
  return `${clean.slice(0, head)}…${clean.slice(clean.length - (max - 1 - head))}`;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return `${ms.toFixed(ms < 1 ? 3 : ms < 100 ? 2 : 1)} ms`;
}

/** A relative change as a signed percentage with a true minus sign: "−31.2%", "+0.4%". */
export function formatChange(fraction: number): string {
  if (!Number.isFinite(fraction)) return fraction > 0 ? '+∞%' : String(fraction);
  const percent = (fraction * 100).toFixed(1);
  return fraction < 0 ? `−${percent.slice(1)}%` : `+${percent}%`;
}

/** Small errors in exponent notation, exact zeros as 0. */
export function formatError(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 0.01 && Math.abs(value) < 1000 ? value.toPrecision(3) : value.toExponential(2);
}
