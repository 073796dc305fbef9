/** A figure measured several times: its median and how far the runs spread around it. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max − min) / median: the spread as a fraction, so noisy figures stand out. */
  spread: number;
  runs: number[];
}

export function summarize(runs: number[]): Summary {
  const sorted = [...runs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  return { median, min, max, spread: median === 0 ? 0 : (max - min) / median, runs };
}

export function formatSummary(summary: Summary | undefined, digits = 3): string {
  if (!summary) return '–';
  const value = summary.median.toFixed(digits);
  return summary.runs.length > 1 ? `${value} ±${Math.round(summary.spread * 50)}%` : value;
}

/** A plain-text table with a header rule, as it prints in a terminal and in Markdown. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
