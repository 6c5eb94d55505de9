// One table for the bench's reports, as aligned text or as markdown.
'use strict';

/** head: column names; rows: arrays of cells; isLeft(i): whether column i is left-aligned (text), '---' (markdown). */
function grid(head, rows, md, isLeft) {
  if (md) {
    const line = (cells) => `| ${cells.join(' | ')} |`;
    return [line(head), line(head.map((h, i) => (isLeft(i) ? '---' : '---:'))), ...rows.map(line)];
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (isLeft(i) ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

module.exports = { grid };
