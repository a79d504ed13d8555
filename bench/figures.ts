/** Numbers the bench reports: medians and percentiles, and how each kind of figure is written. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const count = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "-");

export const fmt = {
  rps: count,
  count,
  ms: (v: number) => (!Number.isFinite(v) ? "-" : v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(1) : v.toFixed(0)),
  mb: (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-"),
  ratio: (v: number) => (!Number.isFinite(v) ? "-" : v >= 10 ? `${v.toFixed(1)}x` : `${v.toFixed(2)}x`),
  /** Bytes as KB of 1,000 bytes. */
  kb: (bytes: number) => (Number.isFinite(bytes) ? (bytes / 1000).toFixed(1) : "-"),
};

export function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}
