// Markdown output: what the lead pastes into the README.

/** A table, first column a label, the rest figures (right-aligned so digits line up), then its note. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, note: string): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const rule = header.map((_h, i) => (i === 0 ? '---' : '---:'));
  return `${[line(header), line(rule), ...rows.map(line)].join('\n')}\n\n${note}`;
}

/** `n` with `digits` decimals, or an en dash for a figure that could not be measured. */
export function num(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

export const percent = (n: number): string => `${num(n, 0)} %`;

export function mb(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MB` : '–';
}

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}
