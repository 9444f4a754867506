/**
 * A team keeps its pipelines in a repository of its own and depends on Sluice (here, as
 * `npm install file:../sluice` would: node_modules/sluice links to this checkout). Its DAGs and
 * task code import everything from `sluice/sdk`; `sluice dags validate` type-checks them; `sluice
 * dags test` runs one end to end, printing task states and logs; and the team's own test file
 * runs a DAG with `runDag` from `sluice/testing`. All against the real stack.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, runNode } from '../support/cli';

const REPO = path.resolve(__dirname, '../..');
let team: string;
const env = (): NodeJS.ProcessEnv => ({ ...process.env, SLUICE_DAGS_DIR: path.join(team, 'dags') });

const TASKS = `import { defineBranch, defineTask } from 'sluice/sdk';

export const countOrders = defineTask('teamCountOrders', async (input: { day: string; region: string }, ctx) => {
  const row = await ctx.conn.pg('source').raw('select 41 + 1 as n');
  ctx.log.info({ region: input.region }, \`counted orders for \${input.day}\`);
  return { day: input.day, region: input.region, orders: Number(row.rows[0].n) };
});

export const chooseSize = defineBranch('teamChooseSize', async (input: { orders: number }) => (input.orders > 10 ? 'big' : 'small'));

export const report = defineTask('teamReport', async (input: { line: string }, ctx) => {
  ctx.log.warn(input.line);
  return input.line;
});

export const explode = defineTask('teamExplode', async () => {
  throw new Error('the partner file is corrupt');
});
`;

const DAG = `import { dag, tpl, z } from 'sluice/sdk';
import { chooseSize, countOrders, report } from './tasks/orders';

export default dag(
  'team_orders',
  { schedule: '0 6 * * *', params: z.object({ region: z.string().default('eu') }) },
  ({ task, branch, ctx, params }) => {
    const counted = task(countOrders, { day: ctx.ds, region: params.field('region') });
    const size = branch(chooseSize, { orders: counted.field('orders') });
    task(report, { line: tpl\`\${counted.field('orders')} orders in \${params.field('region')} on \${ctx.ds}\` }, { id: 'big_day' }).after(size.when('big'));
    task(report, { line: 'a quiet day' }, { id: 'small_day' }).after(size.when('small'));
  },
);
`;

const BROKEN_DAG = `import { dag } from 'sluice/sdk';
import { explode } from './tasks/orders';

export default dag('team_broken', ({ task }) => void task(explode));
`;

const TEAM_TEST = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDag } from 'sluice/testing';
import teamOrders from '../dags/team_orders';

test('team_orders reports a big day', async () => {
  const result = await runDag(teamOrders, { date: '2026-11-21', params: { region: 'us' } });
  assert.equal(result.state, 'success');
  assert.equal(result.tasks.big_day?.output, '42 orders in us on 2026-11-21');
  assert.equal(result.tasks.small_day?.state, 'skipped');
});
`;

before(async () => {
  team = await mkdtemp(path.join(os.tmpdir(), 'team-pipelines-'));
  await mkdir(path.join(team, 'node_modules'), { recursive: true });
  await symlink(REPO, path.join(team, 'node_modules', 'sluice'), 'dir');
  // npm would install Sluice's dependencies beside it; the team's test runs under tsx.
  await symlink(path.join(REPO, 'node_modules', 'tsx'), path.join(team, 'node_modules', 'tsx'), 'dir');
  await mkdir(path.join(team, 'dags', 'tasks'), { recursive: true });
  await mkdir(path.join(team, 'test'));
  await writeFile(path.join(team, 'dags', 'tasks', 'orders.ts'), TASKS);
  await writeFile(path.join(team, 'dags', 'team_orders.ts'), DAG);
  await writeFile(path.join(team, 'dags', 'team_broken.ts'), BROKEN_DAG);
  await writeFile(path.join(team, 'test', 'orders.test.ts'), TEAM_TEST);
});
after(async () => {
  await rm(team, { recursive: true, force: true });
});

describe('a DAG folder outside the repository', () => {
  test('dags validate type-checks and loads DAGs that import sluice/sdk; a type error names file and line', async () => {
    const valid = await runCli(['dags', 'validate', '--json'], env());
    assert.equal(valid.code, 0, valid.stderr + valid.stdout);
    assert.deepEqual(JSON.parse(valid.stdout), { valid: true, dags: 2, errors: [] });

    const wrong = path.join(team, 'dags', 'wrong_types.ts');
    await writeFile(wrong, `import { dag } from 'sluice/sdk';\nimport { report } from './tasks/orders';\nexport default dag('wrong_types', ({ task, ctx }) => void task(report, { line: ctx.prevDs }));\n`);
    try {
      const invalid = await runCli(['dags', 'validate', '--json'], env());
      assert.equal(invalid.code, 1);
      const errors = (JSON.parse(invalid.stdout.split('\n{"error"')[0] ?? '') as { errors: string[] }).errors;
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0] ?? '', /wrong_types\.ts:3:\d+: type error TS2345: .*'string \| null' is not assignable to type 'string'/s);
      assert.equal((await runCli(['dags', 'validate', '--no-typecheck'], env())).code, 0, 'without the type check the DAG loads');
    } finally {
      await rm(wrong);
    }
  });

  test('a Ref inside an ordinary template string fails validation, naming the file, task and field', async () => {
    const stringified = path.join(team, 'dags', 'stringified.ts');
    await writeFile(stringified, `import { dag } from 'sluice/sdk';\nimport { report } from './tasks/orders';\nexport default dag('stringified', ({ task, ctx }) => void task(report, { line: \`landing/dt=\${ctx.ds}/\` }));\n`);
    try {
      const result = await runCli(['dags', 'validate', '--no-typecheck', '--json'], env());
      assert.equal(result.code, 1);
      const { errors } = JSON.parse(result.stdout.split('\n{"error"')[0] ?? '') as { errors: string[] };
      assert.deepEqual(errors, [
        `${stringified}: dag 'stringified', task 'teamReport': input.line: ctx.ds was put inside a string with \${...}, where it can only become "[object Object]" (it has no value until the run); build the string with tpl\`...\` instead`,
      ]);
    } finally {
      await rm(stringified);
    }
  });

  test('dags test runs one run on a private queue, printing task states and logs as it goes', async () => {
    const result = await runCli(['dags', 'test', 'team_orders', '--date', '2026-11-21', '--conf', '{"region":"eu"}', '--json'], env());
    assert.equal(result.code, 0, result.stderr);
    const run = JSON.parse(result.stdout) as { runId: string; state: string; tasks: Record<string, { state: string; output?: unknown }> };
    assert.equal(run.runId, 'team_orders-2026-11-21T06:00:00Z-test');
    assert.equal(run.state, 'success');
    assert.deepEqual(Object.fromEntries(Object.entries(run.tasks).map(([id, t]) => [id, t.state])), {
      teamCountOrders: 'success',
      teamChooseSize: 'success',
      big_day: 'success',
      small_day: 'skipped',
    });
    assert.equal(run.tasks.big_day?.output, '42 orders in eu on 2026-11-21');
    assert.match(result.stderr, /teamCountOrders\s+running \(attempt 1\)/);
    assert.match(result.stderr, /teamCountOrders\s+\| counted orders for 2026-11-21 \{"region":"eu"\}/);
    assert.match(result.stderr, /big_day\s+\| warn 42 orders in eu on 2026-11-21/);
    assert.match(result.stderr, /small_day\s+skipped/);

    const failed = await runCli(['dags', 'test', 'team_broken'], env());
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /teamExplode\s+failed: the partner file is corrupt/);
    assert.equal((await runCli(['dags', 'test', 'team_orders', '--conf', '{"regoin":"eu"}'], env())).code, 2);
  });

  test("the team's own test file runs a DAG with runDag from sluice/testing", async () => {
    // Outside this suite's own test process (node:test refuses to nest otherwise).
    const { NODE_TEST_CONTEXT: _nested, ...outside } = env();
    const result = await runNode(['--import', 'tsx', '--test', path.join(team, 'test', 'orders.test.ts')], outside, team);
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 0, output);
    assert.match(output, /# pass 1/);
  });
});
