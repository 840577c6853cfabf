/**
 * The bench's output format: each bench module returns sections; the runner prints them as Markdown tables
 * (pasted as-is into docs/benchmarks.md and closing notes).
 */

/** One table of the bench output. */
export interface BenchSection {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
  /** Lines printed under the table: what was measured and how. */
  readonly notes?: readonly string[];
}

/** Renders a section as a Markdown table. */
export function renderSection(section: BenchSection): string {
  const cells = [section.columns.map(String), ...section.rows.map((r) => r.map(String))];
  const widths = section.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const out = [`### ${section.title}`, '', line(cells[0] ?? []), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)];
  if (section.notes?.length) out.push('', ...section.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

/** Median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** p-th percentile (0..100), nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}
