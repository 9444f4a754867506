/**
 * What people see in their terminal: `npm test` prints node's spec report and keeps every log in
 * files under the test home, printing a failing file's own output after the report; and no Sluice
 * process prints the AWS SDK's Node-version warning, while other warnings still show.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runNode } from '../support/cli';

const REPO = path.resolve(__dirname, '../..');
const SDK_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

const run = (args: string[], env: NodeJS.ProcessEnv) => runNode(args, env, REPO);

/** This environment, minus the variables a process should set for itself. */
function envWithout(...names: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !names.includes(name)));
}

test("a process that loads Sluice's logger prints no AWS SDK Node-version warning, and other warnings still", async () => {
  const env = envWithout(SDK_SWITCH);
  const s3 = `new (require('@aws-sdk/client-s3').S3Client)({ region: 'us-east-1' }); process.emitWarning('another warning');`;
  const quiet = await run(['--import', 'tsx', '-e', `require('./infra/logger'); ${s3}`], env);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /NodeVersionSupportWarning/);
  assert.match(quiet.stderr, /Warning: another warning/);
  if (Number(process.versions.node.split('.')[0]) < 22) {
    const noisy = await run(['--import', 'tsx', '-e', s3], env);
    assert.match(noisy.stderr, /NodeVersionSupportWarning/, 'without the logger the SDK warns: the check above means something');
  }
});

// A runner of its own, on a second stack. NODE_TEST_CONTEXT would make its node --test take
// itself for a test file and run nothing.
const runnerEnv = envWithout('TEMPORAL_ADDRESS', 'DATABASE_URL', 'SOURCE_DATABASE_URL', 'S3_ENDPOINT', SDK_SWITCH, 'SLUICE_TEST_LOG_DIR', 'NODE_TEST_CONTEXT');
const RUNNER = path.join(REPO, 'test/support/run-tests.ts');

test('npm test: the spec report on the terminal, logs in files, a failing file\'s output after the report', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'runner-test-'));
  const passing = path.join(dir, 'passing.test.ts');
  const failing = path.join(dir, 'failing.test.ts');
  await writeFile(
    passing,
    `import { test } from 'node:test';
import { runNode } from '../support/cli';
console.log(JSON.stringify({ level: 30, msg: 'passing-file-log-line' }));
console.error('passing-file-stderr-line');
test('it passes', () => {});
`,
  );
  await writeFile(
    failing,
    `import { test } from 'node:test';
import { runNode } from '../support/cli';
console.error('failing-file-marker');
test('it fails', () => { throw new Error('on purpose'); });
`,
  );
  const result = await run(['--import', 'tsx', RUNNER, passing, failing], runnerEnv);
  const kept = /^kept (\S+):/m.exec(result.stderr)?.[1];
  try {
    assert.equal(result.code, 1, result.stderr);
    const terminal = result.stdout + result.stderr;
    assert.match(result.stdout, /✔ it passes/);
    assert.match(result.stdout, /✖ it fails/);
    assert.doesNotMatch(terminal, /passing-file-(log|stderr)-line/, "a passing file's output stays in its log file");
    assert.doesNotMatch(terminal, /"level":/, 'no JSON log lines on the terminal');
    assert.doesNotMatch(terminal, /NodeVersionSupportWarning/);
    assert.match(result.stdout, /── output of \S*failing\.test\.ts \(1 lines; all of it in \S+\) ──\nfailing-file-marker\n/);
    assert.match(result.stderr, /^test stack ready in \d+\.\d s; logs in /m);

    assert.ok(kept, `the failed run keeps its home: ${result.stderr}`);
    const logs = path.join(kept, 'logs');
    const testLogs = await readdir(path.join(logs, 'tests'));
    const passingLog = testLogs.find((f) => f.endsWith('passing.test.ts.log'));
    assert.ok(passingLog, testLogs.join(', '));
    const passingOutput = await readFile(path.join(logs, 'tests', passingLog), 'utf8');
    assert.match(passingOutput, /passing-file-log-line/);
    assert.match(passingOutput, /passing-file-stderr-line/);
    assert.match(await readFile(path.join(logs, 'test-runner.log'), 'utf8'), /"msg":"test stack ready"/);
  } finally {
    if (kept) await rm(kept, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
});

test('npm test -- --show-output also prints what the files print (the benchmarks\' results)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'runner-test-'));
  const bench = path.join(dir, 'prints.test.ts');
  await writeFile(bench, `import { test } from 'node:test';\ntest('it prints', () => { console.log('{"hopP50Ms":9}'); });\n`);
  try {
    const result = await run(['--import', 'tsx', RUNNER, '--show-output', bench], runnerEnv);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^\{"hopP50Ms":9\}$/m);
    assert.match(result.stdout, /✔ it prints/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
