export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatCount(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} G`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return String(value);
}

export function formatPercent(fraction: number, digits = 0): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** null stands for an exact round trip. */
export function formatDb(db: number | null): string {
  return db === null ? 'exact' : `${db.toFixed(1)} dB`;
}

export function formatChange(before: number, after: number): string {
  if (before === 0) return '';
  const change = (after - before) / before;
  return `${change > 0 ? '+' : '−'}${Math.abs(change * 100).toFixed(0)}%`;
}
