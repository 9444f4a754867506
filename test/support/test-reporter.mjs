/**
 * The reporter `npm test` uses: node's `spec` report of the tests, and nothing else on the
 * terminal. Whatever a test file prints itself (worker and task logs, child processes, the
 * Temporal core's own WARN lines) goes to one log file per test file in SLUICE_TEST_LOG_DIR.
 * When tests fail, the end of each failing file's log follows the report. With
 * SLUICE_TEST_SHOW_OUTPUT=1 (`npm test -- --show-output`) the output is also printed as it comes.
 *
 * Plain JavaScript: node loads reporters before `--import tsx` can teach it TypeScript.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { spec } from 'node:test/reporters';

/** How much of a failing file's log the report shows; the whole log stays in its file. */
const TAIL_LINES = 200;

/**
 * @param {AsyncIterable<{ type: string, data: { file?: string, message?: string } }>} source
 * @returns {AsyncGenerator<string>}
 */
export default async function* testReporter(source) {
  const logDir = process.env.SLUICE_TEST_LOG_DIR;
  if (!logDir) throw new Error('SLUICE_TEST_LOG_DIR is not set: run the tests with `npm test`');
  fs.mkdirSync(logDir, { recursive: true });
  /** @type {Map<string, number>} open log files */
  const logs = new Map();
  // test/integration/cli.test.ts -> test_integration_cli.test.ts.log (files outside the repo lose their ../)
  /** @param {string | undefined} file */
  const logOf = (file) => path.join(logDir, `${path.relative(process.cwd(), file ?? 'unknown').replace(/[\\/]/g, '_').replace(/^[._]+/, '')}.log`);
  /** @type {Set<string>} */
  const failed = new Set();
  const show = process.env.SLUICE_TEST_SHOW_OUTPUT === '1';

  async function* reported() {
    for await (const event of source) {
      if (event.type === 'test:stdout' || event.type === 'test:stderr') {
        const log = logOf(event.data.file);
        if (!logs.has(log)) logs.set(log, fs.openSync(log, 'a'));
        fs.writeSync(/** @type {number} */ (logs.get(log)), event.data.message ?? '');
        if (!show) continue;
      }
      if (event.type === 'test:fail') failed.add(event.data.file ?? 'unknown');
      yield event;
    }
  }
  for await (const chunk of Readable.from(reported()).pipe(new spec())) yield String(chunk);
  for (const fd of logs.values()) fs.closeSync(fd);

  for (const file of failed) {
    const log = logOf(file);
    if (!fs.existsSync(log)) {
      yield `\n── ${path.relative(process.cwd(), file)} printed nothing ──\n`;
      continue;
    }
    const lines = fs.readFileSync(log, 'utf8').trimEnd().split('\n');
    const shown = lines.slice(-TAIL_LINES);
    const extent = shown.length < lines.length ? `last ${shown.length} of ${lines.length} lines` : `${lines.length} lines`;
    yield `\n── output of ${path.relative(process.cwd(), file)} (${extent}; all of it in ${log}) ──\n${shown.join('\n')}\n`;
  }
}
