/**
 * `npm test [files...]`: starts a throw-away Sluice stack, runs the tests against it with
 * node:test, and always stops the stack again.
 *
 * - The stack runs in a fresh temporary SLUICE_HOME on free ports, so test runs never touch a
 *   developer's `.sluice` data and two runs can share a machine. The server binaries come from the
 *   usual tools directory (`<repo>/.sluice/tools`, or SLUICE_HOME's), installed there on first use.
 * - Servers named in the caller's environment (DATABASE_URL, ...) are ignored: tests write and
 *   delete data, and must never do so in a database someone exported in their shell.
 * - Tests get the stack's URLs in their environment, as external servers (see test/support/env.ts).
 * - The workflow code is bundled once here and shared through SLUICE_WORKFLOW_BUNDLE, instead of
 *   by every test file that starts a worker.
 * - Files run one at a time (--test-concurrency=1): they share one stack.
 * - The terminal gets node's `spec` report and a few lines of our own. Logs go to files under
 *   `<test home>/logs/`: the servers', this runner's (test-runner.log), and everything each test
 *   file prints (tests/<file>.log, see test-reporter.mjs). When a test fails, the end of its file's
 *   log is printed after the report, and the test home is kept. `--show-output` also prints the
 *   files' output as it comes (the benchmarks print their results that way).
 * - The exit code is the tests'; on Ctrl-C or SIGTERM the tests are stopped, then the stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { loadConfig } from '../../infra/config';
import { runMigrations } from '../../infra/db/migrate';
import { findFreePorts } from '../../infra/dev-stack/ports';
import { reapOrphans, stopAllManagedProcesses } from '../../infra/dev-stack/process';
import { startStack, type Stack } from '../../infra/dev-stack/stack';
import { ensureTool } from '../../infra/dev-stack/tools';
import { createLogger, type Logger } from '../../infra/logger';

const REPO = path.resolve(__dirname, '../..');
const TEST_HOME_PREFIX = 'sluice-test-';
const EXTERNAL_SERVER_VARS = ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'SOURCE_DATABASE_URL', 'S3_ENDPOINT'];

const REPORTER = path.join(__dirname, 'test-reporter.mjs');

/** Until the test home exists there is no log file: what little happens before goes to stderr. */
let log: Logger = createLogger('test-runner');
const say = (line: string) => process.stderr.write(`${line}\n`);
let testProcess: ChildProcess | undefined;
let interrupted: NodeJS.Signals | undefined;

async function main(): Promise<number> {
  const runStarted = Date.now();
  const args = process.argv.slice(2);
  const showOutput = args.includes('--show-output');
  const files = await testFiles(args.filter((a) => a !== '--show-output'));
  const ignored = EXTERNAL_SERVER_VARS.filter((name) => process.env[name]);
  if (ignored.length > 0) say(`ignoring ${ignored.join(', ')}: tests run against their own stack`);
  const baseEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !EXTERNAL_SERVER_VARS.includes(name)),
  );

  const toolsConfig = loadConfig({ ...baseEnv, SLUICE_HOME: process.env.SLUICE_HOME || path.join(REPO, '.sluice') });
  const [temporalCli, rclone] = await Promise.all([
    ensureTool('temporal', toolsConfig, log),
    ensureTool('rclone', toolsConfig, log),
  ]);

  await sweepKilledRuns();
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), TEST_HOME_PREFIX));
  // mkdtemp makes the directory private; Postgres runs as its own OS user when we are root.
  await fsp.chmod(home, 0o755);
  const logDir = path.join(home, 'logs');
  log = pino({ base: { name: 'test-runner' } }, pino.destination({ dest: path.join(logDir, 'test-runner.log'), mkdir: true, sync: true }));
  const [temporalPort, pgPort, s3Port] = await findFreePorts(3);
  const stackEnv: NodeJS.ProcessEnv = {
    ...baseEnv,
    SLUICE_HOME: home,
    TEMPORAL_PORT: String(temporalPort),
    SLUICE_PG_PORT: String(pgPort),
    SLUICE_S3_PORT: String(s3Port),
    TEMPORAL_CLI_PATH: temporalCli,
    RCLONE_PATH: rclone,
  };
  const config = loadConfig(stackEnv);

  let stack: Stack | undefined;
  let exitCode = 1;
  try {
    const stackStarted = Date.now();
    // Settle both before going on, so that a failed bundle never leaves a stack starting unseen.
    const [started, bundled] = await Promise.allSettled([
      startStack(config, { headless: true, durable: false, log }),
      bundleWorkflows(home),
    ]);
    if (started.status === 'rejected') throw started.reason;
    stack = started.value;
    if (bundled.status === 'rejected') throw bundled.reason;
    const bundlePath = bundled.value;
    const migrated = await runMigrations(stack.databaseUrl);
    log.info({ ms: Date.now() - stackStarted, migrations: migrated.length }, 'test stack ready');
    say(`test stack ready in ${seconds(Date.now() - stackStarted)}; logs in ${logDir} (kept if a test fails)`);
    if (interrupted) return 128 + os.constants.signals[interrupted];

    const testsStarted = Date.now();
    exitCode = await runTests(files, {
      ...stackEnv,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: config.temporal.namespace,
      DATABASE_URL: stack.databaseUrl,
      SOURCE_DATABASE_URL: stack.sourceDatabaseUrl,
      S3_ENDPOINT: stack.s3Endpoint,
      S3_BUCKET: config.s3.bucket,
      AWS_ACCESS_KEY_ID: config.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: config.s3.secretAccessKey,
      AWS_REGION: config.s3.region,
      ...(bundlePath ? { SLUICE_WORKFLOW_BUNDLE: bundlePath } : {}),
      SLUICE_TEST_LOG_DIR: path.join(logDir, 'tests'),
      ...(showOutput ? { SLUICE_TEST_SHOW_OUTPUT: '1' } : {}),
    });
    log.info({ ms: Date.now() - testsStarted, files: files.length, exitCode }, 'tests finished');
    return exitCode;
  } finally {
    await stack?.stop();
    log.info({ ms: Date.now() - runStarted }, 'npm test total');
    if (exitCode === 0) {
      await fsp.rm(home, { recursive: true, force: true });
    } else {
      say(`kept ${home}: logs of the servers, this runner and each test file in ${logDir}`);
    }
    say(`npm test: ${seconds(Date.now() - runStarted)} in all`);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The files named on the command line, or every `test/**\/*.test.ts` (node 20 has no globs). */
async function testFiles(args: string[]): Promise<string[]> {
  if (args.length > 0) return args;
  const entries = await fsp.readdir(path.join(REPO, 'test'), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => path.relative(process.cwd(), path.join(e.parentPath, e.name)))
    .sort();
}

/**
 * Test homes of runs that were SIGKILLed (a CI timeout) still have servers running: stop them and
 * delete those homes. Homes of live runs are left alone (reapOrphans throws for them), and so are
 * homes of failed runs, which were stopped cleanly and are kept for their logs.
 */
async function sweepKilledRuns(): Promise<void> {
  const tmp = os.tmpdir();
  for (const name of await fsp.readdir(tmp)) {
    if (!name.startsWith(TEST_HOME_PREFIX)) continue;
    const home = path.join(tmp, name);
    const orphans = await reapOrphans(home).catch(() => []);
    if (orphans.length > 0) {
      log.warn({ home, servers: orphans }, 'stopped servers of a killed test run');
      await fsp.rm(home, { recursive: true, force: true });
    }
  }
}

/** Bundles `workflows/` once for every test worker; undefined when there are no workflows. */
async function bundleWorkflows(home: string): Promise<string | undefined> {
  const workflowsPath = path.join(REPO, 'workflows', 'index.ts');
  if (!fs.existsSync(workflowsPath)) return undefined;
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: new DefaultLogger('WARN', (entry) => log.warn(entry.meta ?? {}, entry.message)),
  });
  const bundlePath = path.join(home, 'workflow-bundle.js');
  await fsp.writeFile(bundlePath, code);
  log.info({ ms: Date.now() - started }, 'workflow bundle built');
  return bundlePath;
}

function runTests(files: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    testProcess = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-reporter=${REPORTER}`, '--test-reporter-destination=stdout', ...files],
      { stdio: 'inherit', env },
    );
    testProcess.once('error', reject);
    testProcess.once('exit', (code, signal) => {
      testProcess = undefined;
      resolve(code ?? 128 + os.constants.signals[signal ?? 'SIGTERM']);
    });
  });
}

// Our own handlers: the tests must stop before the servers they use. The first signal stops the
// tests (or the stack while it is starting); main's `finally` then stops the stack.
function interrupt(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = signal;
  say(`${signal}: stopping tests and stack`);
  if (testProcess) testProcess.kill(signal);
  else void stopAllManagedProcesses();
}
process.on('SIGINT', () => interrupt('SIGINT'));
process.on('SIGTERM', () => interrupt('SIGTERM'));
// npm passes SIGTERM to the shell running this script, not to us (`timeout 600 npm test` signals
// npm alone): a changed parent means whoever ran us is gone, so stop as if terminated.
const parentPid = process.ppid;
setInterval(() => process.ppid !== parentPid && interrupt('SIGTERM'), 500).unref();

main().then(
  (code) => process.exit(interrupted ? 128 + os.constants.signals[interrupted] : code),
  (err: unknown) => {
    // After a signal, failures of the interrupted start are expected noise.
    if (interrupted) process.exit(128 + os.constants.signals[interrupted]);
    const message = err instanceof Error ? err.message : String(err);
    log.error(message);
    say(`npm test: ${message}`);
    process.exit(1);
  },
);
