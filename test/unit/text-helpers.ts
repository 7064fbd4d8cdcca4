// Helpers for tests of the text report.

/** The evidence blocks of a text report: a `•` line (its age left out) and the indented lines under it. */
export function evidenceBlocks(text: string): string[] {
  const blocks: string[] = [];
  let cur: string[] | undefined;
  for (const l of text.split('\n')) {
    if (/^\s*• /.test(l)) {
      if (cur) blocks.push(cur.join('\n'));
      cur = [l.replace(/ \S+ ago\b/, '').trim()];
    } else if (cur && /^ {6}/.test(l)) cur.push(l.trim());
    else if (cur) {
      blocks.push(cur.join('\n'));
      cur = undefined;
    }
  }
  if (cur) blocks.push(cur.join('\n'));
  return blocks;
}
