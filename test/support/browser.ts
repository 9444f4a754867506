/**
 * Browser tests of the console: playwright-core drives Debian's Chromium (infra/dev-stack/chromium.ts
 * installs it on first use). A console page opened here is logged in through the login link, and
 * everything that goes wrong in it is collected: console errors (CSP violations among them), page
 * errors, failed requests and error responses. `withConsole` fails the test on any of them.
 * Screenshots go to `test/artifacts/` (git-ignored), for people to look at.
 */
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureChromium } from '../../infra/dev-stack/chromium';
import { createLogger } from '../../infra/logger';

export const ARTIFACTS_DIR = path.resolve(__dirname, '../artifacts');

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

export async function launchBrowser(): Promise<Browser> {
  const executablePath = await ensureChromium(createLogger('chromium'));
  // Chromium's sandbox refuses to run as root.
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath, args });
}

export interface ConsoleSession {
  page: Page;
  context: BrowserContext;
  viewport: ViewportName;
  /** What went wrong in the page so far: console errors, page errors, failed requests, 4xx/5xx answers. */
  problems: string[];
  /** The text of every dialog, accepted automatically (`confirm: Retry load?`). */
  dialogs: string[];
  /**
   * Expects error answers with this status from URLs whose path starts with `pathPrefix` (a form
   * that shows a 400's field errors): neither they nor the console error Chromium logs for them
   * count as problems.
   */
  allowHttpError(status: number, pathPrefix: string): void;
  /** Fails (an AssertionError listing them) if anything went wrong in the page. */
  assertNoProblems(): void;
  close(): Promise<void>;
}

export interface OpenConsoleOptions {
  origin: string;
  token: string;
  viewport: ViewportName;
}

/** A new browser context at the viewport, logged in to the console (lands on `/`). */
export async function openConsole(browser: Browser, opts: OpenConsoleOptions): Promise<ConsoleSession> {
  const context = await browser.newContext({ viewport: VIEWPORTS[opts.viewport] });
  const page = await context.newPage();
  // Generous for a 2-core machine running the whole stack, short enough that a missing element
  // fails the test long before its own timeout.
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  const dialogs: string[] = [];
  const allowed: Array<{ status: number; pathPrefix: string }> = [];
  let closing = false;
  const isAllowed = (url: string, status?: number) => {
    const { origin, pathname } = new URL(url, opts.origin);
    return origin === new URL(opts.origin).origin && allowed.some((a) => (status === undefined || a.status === status) && pathname.startsWith(a.pathPrefix));
  };
  const problem = (text: string) => {
    if (!closing) problems.push(`${page.url().replace(opts.origin, '')}: ${text}`);
  };

  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // Chromium logs every 4xx/5xx answer as "Failed to load resource"; expected ones are fine.
    const at = msg.location().url;
    if (/^Failed to load resource: the server responded with a status of/.test(msg.text()) && at && isAllowed(at)) return;
    problem(`console error: ${msg.text()}${at ? ` (at ${at.replace(opts.origin, '')})` : ''}`);
  });
  page.on('pageerror', (err) => problem(`page error: ${err.stack ?? err.message}`));
  page.on('requestfailed', (request) => {
    const why = request.failure()?.errorText ?? 'failed';
    // A navigation cancels the requests still in flight (a live page's poll): not the page's fault.
    if (why === 'net::ERR_ABORTED') return;
    problem(`request failed: ${request.method()} ${request.url()}: ${why}`);
  });
  page.on('response', (response) => {
    const status = response.status();
    if (status < 400 || isAllowed(response.url(), status)) return;
    problem(`HTTP ${status}: ${response.request().method()} ${response.url().replace(opts.origin, '')}`);
  });
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    // The page may be closing: then there is nothing left to accept.
    dialog.accept().catch(() => undefined);
  });

  const session: ConsoleSession = {
    page,
    context,
    viewport: opts.viewport,
    problems,
    dialogs,
    allowHttpError: (status, pathPrefix) => {
      allowed.push({ status, pathPrefix });
    },
    assertNoProblems: () => {
      assert.deepEqual(problems, [], `the ${opts.viewport} page had problems:\n  ${problems.join('\n  ')}`);
    },
    close: async () => {
      closing = true;
      await context.close();
    },
  };
  // The login link sets the HttpOnly cookie and redirects to `/` without the token.
  const response = await page.goto(`${opts.origin}/?token=${encodeURIComponent(opts.token)}`);
  assert.equal(new URL(page.url()).search, '', 'the login link drops the token from the address bar');
  assert.ok(response?.ok(), `the login link answered ${String(response?.status())}`);
  return session;
}

/**
 * Runs `body` in a fresh logged-in console page and closes it; fails if the page had any problem.
 * When `body` itself fails, the page's problems are added to its error (a 404 or a script error
 * is usually why a locator timed out).
 */
export async function withConsole<T>(browser: Browser, opts: OpenConsoleOptions, body: (session: ConsoleSession) => Promise<T>): Promise<T> {
  const session = await openConsole(browser, opts);
  try {
    const result = await body(session);
    session.assertNoProblems();
    return result;
  } catch (err) {
    // What the page looked like when it failed; the name says which page.
    const where = new URL(session.page.url()).pathname.replace(/^\/$/, 'home');
    await screenshot(session.page, `FAILED-${opts.viewport}-${where}`).catch(() => undefined);
    if (err instanceof Error && session.problems.length > 0 && !(err instanceof assert.AssertionError && err.message.includes('had problems'))) {
      err.message += `\nProblems in the ${opts.viewport} page:\n  ${session.problems.join('\n  ')}`;
    }
    throw err;
  } finally {
    await session.close();
  }
}

/** Saves a full-page PNG as `test/artifacts/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await fsp.mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Whether the page is wider than the viewport (a table or SVG that does not fit a phone). */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number } | undefined> {
  // A string: this project's type check has no DOM library.
  const sizes = await page.evaluate<{ scrollWidth: number; innerWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })');
  return sizes.scrollWidth <= sizes.innerWidth + 1 ? undefined : sizes;
}

/** Polls `check` until it returns a value (not undefined), for up to `ms`; the error names `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  let lastError: unknown;
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(250)) {
    try {
      const found = await check();
      if (found !== undefined) return found;
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}
