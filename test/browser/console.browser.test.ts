/**
 * The console in a real browser (Chromium through playwright-core) on the real stack, at desktop
 * (1280 px) and phone (390 px) widths: the DAG list; triggering a run with params (a per-field
 * error first) and watching the grid turn green without a reload; retrying a failed task from the
 * run page, the tasks that had succeeded keeping their one attempt; a backfill from its preview;
 * the data, report and schedule pages. Every page visited is saved under test/artifacts/, and any
 * console error (a CSP violation among them), script error or failed request fails the test.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { Browser, Locator, Page } from 'playwright-core';
import { dag, z } from '../../dags/sdk';
import { startDagRun } from '../../server/client/start-run';
import { createConsoleApp } from '../../server/console/app';
import { syncSchedules } from '../../server/schedules/sync';
import { backfillQueue } from '../../workflows/backfill';
import type { RunView } from '../../server/client/run-view';
import { echo, flaky, sleepFor, testTasks } from '../fixtures/tasks';
import { eventually, horizontalOverflow, launchBrowser, screenshot, withConsole, type ConsoleSession, type ViewportName } from '../support/browser';
import { compileOrThrow, uniqueLogicalDate, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-console-browser';
const TOKEN = 'console-browser-test-token';
const VIEWPORT_NAMES: ViewportName[] = ['desktop', 'phone'];

const PARAMS_DAG = 'browser_params';
const paramsDag = compileOrThrow(
  dag(
    PARAMS_DAG,
    {
      taskQueue: TQ,
      schedule: '0 5 * * *',
      params: z.object({
        region: z.string().default('eu'),
        batch: z.number().int().min(1).max(10).default(3),
        mode: z.enum(['incremental', 'full']).default('incremental'),
      }),
    },
    ({ task, params }) => {
      const extract = task(echo, { label: params.field('region'), from: params.field('batch') }, { id: 'extract' });
      // Long enough that the grid shows the run before it is over.
      const wait = task(sleepFor, { ms: 2000 }, { id: 'transform' }).after(extract);
      task(echo, { label: params.field('mode'), from: wait }, { id: 'load' });
    },
  ),
  testTasks,
);

const RETRY_DAG = 'browser_retry';
const retryDag = compileOrThrow(
  dag(RETRY_DAG, { taskQueue: TQ }, ({ task }) => {
    const first = task(echo, { label: 'first' }, { id: 'first' });
    // Fails its first attempt; with no retries the run waits for an operator, whose retry succeeds.
    const middle = task(flaky, { succeedOnAttempt: 2 }, { id: 'middle', retries: 0 }).after(first);
    task(echo, { label: 'last', from: middle }, { id: 'last' });
  }),
  testTasks,
);

const BACKFILL_DAG = 'browser_backfill';
const backfillDag = compileOrThrow(
  dag(BACKFILL_DAG, { taskQueue: TQ, schedule: '0 5 * * *' }, ({ task, ctx }) => {
    task(echo, { label: ctx.logicalDate });
  }),
  testTasks,
);

let live: TestWorker;
let backfills: TestWorker;
let server: Server;
let origin: string;
let browser: Browser;
const openRuns: string[] = [];

before(async () => {
  // Chromium first: on a fresh machine this installs it, which takes longer than the rest.
  browser = await launchBrowser();
  live = await startTestWorker(testTasks, TQ);
  backfills = await startTestWorker(testTasks, backfillQueue(TQ));
  await syncSchedules(live.client, [paramsDag, backfillDag]);
  const app = createConsoleApp({
    temporal: live.client,
    db: live.resources.warehouse,
    token: TOKEN,
    logger: pino({ level: 'silent' }),
    dags: () => [paramsDag, retryDag, backfillDag],
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  for (const id of openRuns) await live.client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
  if (live) await syncSchedules(live.client, []);
  await live?.stop();
  await backfills?.stop();
});

/** The console's JSON API, as a script calls it. */
async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${origin}/api${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200, `GET /api${path}`);
  return (await res.json()) as T;
}

const session = (viewport: ViewportName) => ({ origin, token: TOKEN, viewport });

/** Opens a console page by its path; it must answer 200 and have a `main h1`. */
async function visit(c: ConsoleSession, path: string, name: string): Promise<void> {
  const response = await c.page.goto(`${origin}${path}`);
  if (response?.status() !== 200) assert.fail(`GET ${path} answered ${String(response?.status())}: ${String(await response?.text()).slice(0, 300)}`);
  await c.page.locator('main h1').first().waitFor();
  await screenshot(c.page, `${c.viewport}-${name}`);
}

async function assertFitsWidth(c: ConsoleSession, what: string): Promise<void> {
  if (c.viewport !== 'phone') return;
  const overflow = await horizontalOverflow(c.page);
  assert.equal(overflow, undefined, `${what} is wider than the phone: ${JSON.stringify(overflow)}`);
}

/** Sets a form field whatever control it is: a select, radio buttons or a text input. */
async function setField(form: Locator, name: string, value: string): Promise<void> {
  const select = form.locator(`select[name="${name}"]`);
  if ((await select.count()) > 0) {
    await select.selectOption(value);
    return;
  }
  const radio = form.locator(`input[type="radio"][name="${name}"][value="${value}"]`);
  if ((await radio.count()) > 0) {
    await radio.check();
    return;
  }
  await form.locator(`[name="${name}"]`).fill(value);
}

async function attributes(locator: Locator, name: string): Promise<string[]> {
  const values: string[] = [];
  for (const element of await locator.all()) values.push((await element.getAttribute(name)) ?? '');
  return values;
}

const markNoReload = (page: Page) => page.evaluate('window.__sluiceNoReload = true');
const stillNoReload = (page: Page) => page.evaluate<unknown>('window.__sluiceNoReload');

/** Each test's limit: far above its normal time, so a missing element fails it rather than the file hanging. */
const LIMIT = { timeout: 90_000 };

describe('console in a browser', () => {
  for (const viewport of VIEWPORT_NAMES) {
    test(`${viewport}: the DAG list; trigger with params (a per-field error first); the grid turns success live`, LIMIT, async (t) => {
      await withConsole(browser, session(viewport), async (c) => {
        const { page } = c;
        await page.locator('table#dags').waitFor();
        for (const id of [PARAMS_DAG, RETRY_DAG, BACKFILL_DAG]) await page.locator(`table#dags tr[data-dag="${id}"]`).waitFor();
        const row = page.locator(`tr[data-dag="${PARAMS_DAG}"]`);
        await row.locator('button[data-post$="/pause"], button[data-post$="/unpause"]').first().waitFor();
        await screenshot(page, `${viewport}-dags`);
        await assertFitsWidth(c, 'the DAG list');
        const before = new Set((await api<{ runs: Array<{ runId: string }> }>(`/runs?dagId=${PARAMS_DAG}`)).runs.map((r) => r.runId));

        await row.locator('a.trigger').click();
        await page.waitForURL(`${origin}/dags/${PARAMS_DAG}/trigger`);
        const form = page.locator('form#trigger');
        await form.waitFor();
        assert.equal(await form.locator('[name="region"]').inputValue(), 'eu', 'the default is filled in');
        await screenshot(page, `${viewport}-trigger`);

        // The form posts its fields as JSON; the 400 answer carries the per-field messages.
        const postsTo = await form.getAttribute('data-api');
        if (!postsTo) assert.fail('form#trigger has a data-api to post to');
        c.allowHttpError(400, postsTo);
        await form.locator('[name="region"]').fill('apac');
        await setField(form, 'mode', 'full');
        await form.locator('[name="batch"]').fill('42');
        await form.locator('button[type=submit]').click();
        const batchError = form.locator('[data-error-for="batch"]');
        const message = await eventually('the error for batch', async () => (await batchError.textContent())?.trim() || undefined, 10_000).catch(async (err: Error) => {
          // The usual cause: the browser's own check (min/max on the input) stopped the submit.
          const native = await form.locator('[name="batch"]').evaluate((input: { validationMessage?: string }) => input.validationMessage ?? '');
          if (native) err.message += `; the browser refused to submit the form itself: "${native}" (give form#trigger novalidate so the server's message shows)`;
          throw err;
        });
        assert.match(message, /10/, 'the message names the limit');
        assert.equal((await form.locator('[data-error-for="region"]').textContent())?.trim() ?? '', '', 'no error for a good field');
        assert.equal(new URL(page.url()).pathname, `/dags/${PARAMS_DAG}/trigger`, 'a refused form stays');
        await screenshot(page, `${viewport}-trigger-error`);

        await form.locator('[name="batch"]').fill('4');
        await form.locator('button[type=submit]').click();
        await page.waitForURL(`${origin}/dags/${PARAMS_DAG}/grid`);
        await page.locator('table#grid').waitFor();
        await markNoReload(page);
        const runId = await eventually('the new run in the grid', async () => {
          const shown = await attributes(page.locator('table#grid th.run[data-run]'), 'data-run');
          return shown.find((id) => !before.has(id));
        });
        const cells = page.locator(`table#grid td.cell[data-run="${runId}"]`);
        const firstSeen = await attributes(cells, 'data-state');
        t.diagnostic(`${runId}: grid cells first seen as ${firstSeen.join(', ')}`);
        await screenshot(page, `${viewport}-grid-running`);
        await eventually(
          `every cell of ${runId} to turn success`,
          async () => {
            const states = await attributes(cells, 'data-state');
            return states.length === 3 && states.every((s) => s === 'success') ? states : undefined;
          },
          45_000,
        );
        assert.equal(await stillNoReload(page), true, 'the grid updated itself, without a reload');
        assert.equal(await page.locator(`th.run[data-run="${runId}"]`).getAttribute('data-state'), 'success');
        await assertFitsWidth(c, 'the grid');
        await screenshot(page, `${viewport}-grid-success`);

        const view = await api<RunView>(`/runs/${encodeURIComponent(runId)}`);
        const outputs = Object.fromEntries(view.tasks.map((task) => [task.id, task.output]));
        assert.deepEqual(outputs.extract, { label: 'apac', task: 'extract', from: 4 }, 'the params typed into the form');
        assert.deepEqual(outputs.load, { label: 'full', task: 'load', from: 2000 });

        const link = page.locator(`td.cell[data-run="${runId}"][data-task="extract"] a`);
        assert.equal(decodeURIComponent((await link.getAttribute('href')) ?? ''), `/runs/${runId}#task-extract`);
        await link.click();
        await page.waitForURL((url) => url.pathname.startsWith('/runs/'));
        await page.locator('tr[data-task="extract"][data-state="success"]').waitFor();
        // The cell's task has its attempts and logs open; the others stay closed.
        await page.locator('details[data-key="task-extract"][open] .attempt[data-attempt="1"]').waitFor();
        assert.equal(await page.locator('details[data-key="task-load"][open]').count(), 0);
        await screenshot(page, `${viewport}-run-success`);
        await assertFitsWidth(c, 'the run page');

        await visit(c, '/', 'dags-after-run');
        await row.locator('.runs .sq[data-state="success"]').first().waitFor();
      });
    });
  }

  for (const viewport of VIEWPORT_NAMES) {
    test(`${viewport}: a failed task retried from the run page succeeds; the tasks that had succeeded keep their one attempt`, LIMIT, async (t) => {
      const run = await startDagRun(live.client, retryDag, { logicalDate: uniqueLogicalDate(), params: {}, trigger: 'manual' });
      openRuns.push(run.runId);
      await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
      await withConsole(browser, session(viewport), async (c) => {
        const { page } = c;
        await visit(c, `/runs/${encodeURIComponent(run.runId)}`, 'run-awaiting-operator');
        await page.locator('tr[data-task="first"][data-state="success"]').waitFor();
        await page.locator('tr#task-middle[data-task="middle"][data-state="failed"]').waitFor();
        await page.locator('#graph svg g.node[data-task="middle"][data-state="failed"]').waitFor();
        await page.locator('#gantt svg').waitFor();
        await page.locator('#why').waitFor();
        await assertFitsWidth(c, 'the run page');

        await page.locator('tr[data-task="middle"] button[data-post$="/retry"]').click();
        const outcome = page.locator('#outcome');
        const said = await eventually('the outcome of the retry', async () => (await outcome.textContent())?.trim() || undefined, 15_000);
        t.diagnostic(`dialogs: ${JSON.stringify(c.dialogs)}; outcome: ${said}`);
        assert.equal(c.dialogs.length, 1, 'the retry asked for confirmation once');
        assert.match(c.dialogs[0] ?? '', /^confirm: /);
        await screenshot(page, `${viewport}-run-retry-outcome`);

        await page.locator('tr[data-task="middle"][data-state="success"]').waitFor({ timeout: 30_000 });
        await page.locator('tr[data-task="last"][data-state="success"]').waitFor({ timeout: 30_000 });
        // Each task's row counts its attempts, and its detail row lists them.
        const shown: Array<[string, string, number]> = [];
        for (const task of ['first', 'middle', 'last']) {
          const count = (await page.locator(`tr[data-task="${task}"] td[data-label="attempts"]`).textContent())?.trim() ?? '';
          shown.push([task, count, await page.locator(`tr[data-detail-for="${task}"] .attempt[data-attempt]`).count()]);
        }
        assert.deepEqual(shown, [
          ['first', '1', 1],
          ['middle', '2', 2],
          ['last', '1', 1],
        ]);
        await screenshot(page, `${viewport}-run-retried`);
      });

      await run.handle.result();
      const view = await api<RunView>(`/runs/${encodeURIComponent(run.runId)}`);
      assert.equal(view.state, 'success');
      assert.deepEqual(
        view.tasks.map((task) => [task.id, task.state, task.attempts]),
        [
          ['first', 'success', 1],
          ['middle', 'success', 2],
          ['last', 'success', 1],
        ],
      );
      const recorded = view.attempts.map((a) => [a.taskId, a.attempt, a.state]);
      assert.deepEqual(recorded.filter(([task]) => task !== 'middle'), [
        ['first', 1, 'success'],
        ['last', 1, 'success'],
      ]);
      assert.deepEqual(recorded.filter(([task]) => task === 'middle'), [
        ['middle', 1, 'failed'],
        ['middle', 2, 'success'],
      ]);
    });
  }

  test('desktop: a backfill started from its preview runs every date', LIMIT, async () => {
    await withConsole(browser, session('desktop'), async (c) => {
      const { page } = c;
      await visit(c, `/backfills/new?dagId=${BACKFILL_DAG}`, 'backfill-new');
      const form = page.locator('form#backfill');
      await form.locator('[name="from"]').fill('2025-01-01');
      await form.locator('[name="to"]').fill('2025-01-03');
      await page.locator('#preview').click();
      const dates = page.locator('table#preview-table tr[data-date]');
      const listed = await eventually('the previewed dates', async () => {
        const shown = await attributes(dates, 'data-date');
        return shown.length > 0 ? shown : undefined;
      });
      assert.equal(listed.length, 3, `one row per date: ${listed.join(', ')}`);
      listed.forEach((date, i) => assert.ok(date.startsWith(`2025-01-0${i + 1}`), `row ${i}: ${date}`));
      await screenshot(page, 'desktop-backfill-preview');

      await page.locator('#start').click();
      await page.waitForURL((url) => url.pathname.startsWith('/backfills/') && url.pathname !== '/backfills/new');
      const backfillId = decodeURIComponent(new URL(page.url()).pathname.slice('/backfills/'.length));
      await page.locator('#progress').waitFor();
      await markNoReload(page);
      await screenshot(page, 'desktop-backfill-started');
      const done = await eventually(
        'the backfill to finish',
        async () => {
          const progress = await api<{ state: string; counts: Record<string, number> }>(`/backfills/${encodeURIComponent(backfillId)}`);
          return progress.state === 'done' ? progress : undefined;
        },
        60_000,
      );
      assert.deepEqual(done.counts, { pending: 0, running: 0, success: 3, failed: 0, skipped: 0 });
      // The page follows by itself (it polls), to the end.
      await page.locator('#progress[data-state="done"]').waitFor();
      assert.match((await page.locator('#progress').textContent()) ?? '', /\b3\/3 dates done\b/);
      assert.equal(await stillNoReload(page), true, 'the progress updated itself, without a reload');
      await screenshot(page, 'desktop-backfill-done');
    });
  });

  const pages: Array<[path: string, name: string]> = [
    ['/data/quality', 'data-quality'],
    ['/data/exceptions', 'data-exceptions'],
    ['/data/audit', 'data-audit'],
    ['/data/lineage', 'data-lineage'],
    ['/reports', 'reports'],
    ['/schedules', 'schedules'],
  ];
  for (const [path, name] of pages) {
    test(`${path} opens at both widths`, LIMIT, async (t) => {
      for (const viewport of VIEWPORT_NAMES) {
        await withConsole(browser, session(viewport), async (c) => {
          await visit(c, path, name);
          // The brief asks the DAG list and run page to fit a phone; here it is only reported.
          const overflow = viewport === 'phone' ? await horizontalOverflow(c.page) : undefined;
          if (overflow) t.diagnostic(`${path} is wider than the phone: ${JSON.stringify(overflow)}`);
        });
      }
    });
  }
});
