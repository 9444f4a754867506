/**
 * The README's code examples stay true: every ```ts block that starts with a `// <path>.ts`
 * comment is written to that path in a fresh project that depends on Sluice (as a team's would),
 * the whole project is type-checked, and `sluice dags validate` loads and checks its DAGs.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { typecheckFiles } from '../../server/dag-typecheck';
import { runCli } from '../support/cli';

const REPO = path.resolve(__dirname, '../..');
let project: string;
let files: string[];

/** The README's file examples: `// dags/daily_orders.ts` on the first line of a ts block. */
async function readmeExamples(): Promise<Array<{ file: string; code: string }>> {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  return [...readme.matchAll(/^\s*```ts\n\s*\/\/ ([\w./-]+\.ts)\n([\s\S]*?)^\s*```/gm)].map((m) => {
    const indent = /^\s*/.exec(m[0])?.[0].replace('\n', '') ?? '';
    return { file: m[1] as string, code: (m[2] as string).replace(new RegExp(`^${indent}`, 'gm'), '') };
  });
}

before(async () => {
  project = await mkdtemp(path.join(os.tmpdir(), 'readme-examples-'));
  // The project's node_modules: Sluice itself, and what installing it brings along.
  await mkdir(path.join(project, 'node_modules'));
  for (const entry of await readdir(path.join(REPO, 'node_modules'))) {
    if (!entry.startsWith('.')) await symlink(path.join(REPO, 'node_modules', entry), path.join(project, 'node_modules', entry));
  }
  await symlink(REPO, path.join(project, 'node_modules', 'sluice'), 'dir');
  const examples = await readmeExamples();
  files = [];
  for (const { file, code } of examples) {
    const target = path.join(project, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, code);
    files.push(target);
  }
});
after(async () => {
  await rm(project, { recursive: true, force: true });
});

test('the README has DAG, task and test examples', () => {
  const names = files.map((f) => path.relative(project, f));
  for (const expected of ['activities/orders.ts', 'dags/daily_orders.ts', 'dags/routed_orders.ts', 'test/daily_orders.test.ts', 'activities/customers.ts', 'activities/daily-orders.ts', 'dags/my_orders.ts']) {
    assert.ok(names.includes(expected), `README example ${expected} (found ${names.join(', ')})`);
  }
});

test('every README example type-checks', () => {
  assert.deepEqual(typecheckFiles(files, project), []);
});

test('sluice dags validate accepts the README DAGs', async () => {
  const result = await runCli(['dags', 'validate', '--json'], { ...process.env, SLUICE_DAGS_DIR: path.join(project, 'dags') });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal((JSON.parse(result.stdout) as { dags: number }).dags, files.filter((f) => path.relative(project, f).startsWith(`dags${path.sep}`)).length);
});
