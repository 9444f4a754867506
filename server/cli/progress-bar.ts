/** A one-line progress bar on stderr, redrawn in place on a terminal and printed per change elsewhere. */
export function renderProgress(label: string, done: number, total: number, detail: string): void {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${detail}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
  else process.stderr.write(`${line}\n`);
}

export function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}
