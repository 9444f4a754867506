import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  callback,
  compileDag,
  dag,
  defineBranch,
  defineSensor,
  defineTask,
  runContext,
  specVersion,
  tpl,
  type DagDefinition,
} from '../../dags/sdk';
import type { DagSpec, TaskSpec } from '../../workflows/spec';

interface LakeObject {
  key: string;
  bytes: number;
  meta: { rows: number };
}
const extract = defineTask('extract', async (input: { day: string }): Promise<LakeObject> => ({ key: input.day, bytes: 1, meta: { rows: 1 } }));
const transform = defineTask('transform', async (input: LakeObject) => input);
const loadFacts = defineTask('loadFacts', async (input: { key: string; rows: number }) => input.rows);
const loadDims = defineTask('loadDims', async (input: LakeObject) => input.bytes);
const report = defineTask('report', async (input: { facts: number; dims: number }) => input.facts + input.dims);
const listParts = defineTask('listParts', async (input: LakeObject) => [{ id: input.key }]);
const processPart = defineTask('processPart', async (input: { part: string; region: string; day: string }) => input.part.length);
const summarize = defineTask('summarize', async (input: number[]) => input.length);
const keyExists = defineSensor('keyExists', async (input: { key: string }) => input.key !== '');
const pickRegion = defineBranch('pickRegion', async (input: { region: string }) => (input.region === 'eu' ? 'eu' : 'us'));
const notify = defineTask('notify', async (input: { channel: string; dag: string }) => input.channel);
const slow = defineTask('slow', async () => 1, { executionTimeout: '4h', retries: 5, doc: 'Takes a while.' });

function compile(definition: DagDefinition): DagSpec {
  const { spec, errors } = compileDag(definition, { file: 'dags/test.ts' });
  assert.deepEqual(errors.map((e) => e.message), []);
  return spec;
}

function byId(spec: DagSpec, id: string): TaskSpec {
  const task = spec.tasks.find((t) => t.id === id);
  assert.ok(task, `task ${id} in spec`);
  return task;
}

describe('compileDag', () => {
  it('compiles a typed diamond with edges inferred from data flow', () => {
    const spec = compile(
      dag('diamond', ({ task, ctx }) => {
        const raw = task(extract, { day: ctx.logicalDate });
        const clean = task(transform, raw);
        const facts = task(loadFacts, { key: clean.field('key'), rows: clean.field('meta').field('rows') });
        const dims = task(loadDims, clean);
        task(report, { facts, dims });
      }),
    );
    assert.deepEqual(
      spec.tasks.map((t) => [t.id, t.upstream]),
      [
        ['extract', []],
        ['transform', ['extract']],
        ['loadFacts', ['transform']],
        ['loadDims', ['transform']],
        ['report', ['loadFacts', 'loadDims']],
      ],
    );
    assert.deepEqual(byId(spec, 'transform').input, { $ref: { task: 'extract', path: [] } });
    assert.deepEqual(byId(spec, 'report').input, {
      facts: { $ref: { task: 'loadFacts', path: [] } },
      dims: { $ref: { task: 'loadDims', path: [] } },
    });
    assert.equal(spec.dagId, 'diamond');
    assert.equal(spec.schedule, null);
    assert.match(spec.version, /^[0-9a-f]{12}$/);
  });

  it('builds $ref paths from field() and keeps literal values', () => {
    const spec = compile(
      dag('fields', ({ task }) => {
        const raw = task(extract, { day: '2026-01-01' });
        task(loadFacts, { key: raw.field('key'), rows: raw.field('meta').field('rows') });
        task(processPart, { part: task(listParts, raw).field(0).field('id'), region: 'eu', day: 'x' });
      }),
    );
    assert.deepEqual(byId(spec, 'extract').input, { day: '2026-01-01' });
    assert.deepEqual(byId(spec, 'loadFacts').input, {
      key: { $ref: { task: 'extract', path: ['key'] } },
      rows: { $ref: { task: 'extract', path: ['meta', 'rows'] } },
    });
    assert.deepEqual(byId(spec, 'processPart').input, {
      part: { $ref: { task: 'listParts', path: ['0', 'id'] } },
      region: 'eu',
      day: 'x',
    });
    assert.deepEqual(byId(spec, 'loadFacts').upstream, ['extract']);
  });

  it('compiles ctx and params to $ctx placeholders and records the params JSON schema', () => {
    const spec = compile(
      dag('ctx_params', { params: z.object({ region: z.string().default('eu'), cfg: z.object({ day: z.string() }).optional() }) }, ({ task, ctx, params }) => {
        task(extract, { day: ctx.dataIntervalStart }, { id: 'a' });
        task(extract, { day: ctx.dataIntervalEnd }, { id: 'b' });
        task(extract, { day: ctx.runId }, { id: 'c' });
        task(extract, { day: ctx.dagId }, { id: 'd' });
        task(extract, { day: params.field('region') }, { id: 'e' });
        task(extract, { day: params.field('cfg').field('day') as never }, { id: 'f' });
        task(notify, { channel: 'x', dag: params as never }, { id: 'g' });
      }),
    );
    const inputs = spec.tasks.map((t) => t.input);
    assert.deepEqual(inputs, [
      { day: { $ctx: 'dataIntervalStart' } },
      { day: { $ctx: 'dataIntervalEnd' } },
      { day: { $ctx: 'runId' } },
      { day: { $ctx: 'dagId' } },
      { day: { $ctx: 'params', path: ['region'] } },
      { day: { $ctx: 'params', path: ['cfg', 'day'] } },
      { channel: 'x', dag: { $ctx: 'params' } },
    ]);
    assert.ok(spec.tasks.every((t) => t.upstream.length === 0));
    const schema = spec.paramsSchema as { properties: Record<string, { default?: unknown }>; required?: string[] };
    assert.equal(schema.properties.region?.default, 'eu');
    assert.equal(schema.required, undefined);
  });

  it('compiles map() to kind map with map.over and $item placeholders', () => {
    const spec = compile(
      dag('mapped', { params: z.object({ region: z.string().default('eu') }) }, ({ task, map, ctx, params }) => {
        const raw = task(extract, { day: ctx.logicalDate });
        const parts = map(processPart, {
          over: task(listParts, raw),
          input: (p) => ({ part: p.field('id'), region: params.field('region'), day: raw.field('key') }),
        });
        task(summarize, parts, { triggerRule: 'all_done', id: 'summary' });
      }),
    );
    const mapped = byId(spec, 'processPart');
    assert.equal(mapped.kind, 'map');
    assert.deepEqual(mapped.map, { over: { task: 'listParts', path: [] } });
    assert.deepEqual(mapped.upstream, ['listParts', 'extract']);
    assert.deepEqual(mapped.input, {
      part: { $item: ['id'] },
      region: { $ctx: 'params', path: ['region'] },
      day: { $ref: { task: 'extract', path: ['key'] } },
    });
    const summary = byId(spec, 'summary');
    assert.equal(summary.activity, 'summarize');
    assert.equal(summary.triggerRule, 'all_done');
    assert.deepEqual(summary.input, { $ref: { task: 'processPart', path: [] } });
  });

  it('maps over a field of an output, with the whole item as input', () => {
    const nested = defineTask('nested', async () => ({ parts: ['a', 'b'] }));
    const echo = defineTask('echo', async (input: string) => input);
    const spec = compile(
      dag('mapped_field', ({ task, map }) => {
        map(echo, { over: task(nested).field('parts'), input: (p) => p });
      }),
    );
    assert.deepEqual(byId(spec, 'echo').map, { over: { task: 'nested', path: ['parts'] } });
    assert.deepEqual(byId(spec, 'echo').input, { $item: [] });
  });

  it("compiles tpl strings into $tpl placeholders whose output Refs add edges, and Airflow's macros into $ctx", () => {
    const spec = compile(
      dag('templated', { params: z.object({ region: z.string().default('eu') }) }, ({ task, sensor, ctx, params }) => {
        const raw = task(extract, { day: tpl`landing/${params.field('region')}/dt=${ctx.ds}/part-${1}` });
        sensor(keyExists, { key: tpl`${raw.field('key')}.done` });
        task(extract, { day: ctx.prevDs as unknown as string }, { id: 'prev' });
      }),
    );
    assert.deepEqual(byId(spec, 'extract').input, {
      day: { $tpl: { strings: ['landing/', '/dt=', '/part-', ''], values: [{ $ctx: 'params', path: ['region'] }, { $ctx: 'ds' }, 1] } },
    });
    assert.deepEqual(byId(spec, 'keyExists').upstream, ['extract']);
    assert.deepEqual(byId(spec, 'keyExists').input, { key: { $tpl: { strings: ['', '.done'], values: [{ $ref: { task: 'extract', path: ['key'] } }] } } });
    assert.deepEqual(byId(spec, 'prev').input, { day: { $ctx: 'prevDs' } });
  });

  it('compiles sensors, branches and groups', () => {
    const spec = compile(
      dag('kinds', { params: z.object({ region: z.string().default('eu') }) }, ({ task, sensor, branch, group, ctx, params }) => {
        const ready = sensor(keyExists, { key: 'landing/x' }, { pokeInterval: '1m', timeout: '6h', softFail: true });
        sensor(keyExists, { key: 'landing/y' }, { id: 'default_sensor' });
        group('regions', () => {
          const choice = branch(pickRegion, { region: params.field('region') }).after(ready);
          const eu = task(extract, { day: ctx.logicalDate }, { id: 'eu_load' }).after(choice.when('eu'));
          group('inner', () => task(transform, eu));
          return eu;
        });
      }),
    );
    const ready = byId(spec, 'keyExists');
    assert.equal(ready.kind, 'sensor');
    assert.deepEqual(ready.sensor, { pokeIntervalMs: 60_000, timeoutMs: 6 * 3_600_000, softFail: true });
    assert.deepEqual(byId(spec, 'default_sensor').sensor, { pokeIntervalMs: 60_000, timeoutMs: 7 * 86_400_000, softFail: false });

    const choice = byId(spec, 'regions.pickRegion');
    assert.equal(choice.kind, 'branch');
    assert.equal(choice.group, 'regions');
    assert.deepEqual(choice.upstream, ['keyExists']);
    assert.deepEqual(byId(spec, 'regions.eu_load').upstream, ['regions.pickRegion']);
    assert.deepEqual(byId(spec, 'regions.eu_load').when, { 'regions.pickRegion': ['eu'] });
    const inner = byId(spec, 'regions.inner.transform');
    assert.equal(inner.group, 'regions.inner');
    assert.deepEqual(inner.upstream, ['regions.eu_load']);
    assert.equal(ready.group, undefined);
  });

  it('adds order-only dependencies with .after(), chainable and deduplicated', () => {
    let id = '';
    const spec = compile(
      dag('after', ({ task }) => {
        const a = task(extract, { day: 'a' }, { id: 'a' });
        const b = task(extract, { day: 'b' }, { id: 'b' });
        const c = task(extract, { day: 'c' }, { id: 'c' });
        const d = task(transform, a).after(b).after([c, a], b);
        id = d.id;
      }),
    );
    assert.equal(id, 'transform');
    assert.deepEqual(byId(spec, 'transform').upstream, ['a', 'b', 'c']);
    assert.deepEqual(byId(spec, 'transform').input, { $ref: { task: 'a', path: [] } });
  });

  it('applies built-in defaults, DAG defaults, definition defaults and call overrides in that order', () => {
    const spec = compile(
      dag(
        'defaults',
        { retries: 3, retryDelay: '30s', executionTimeout: '2h', triggerRule: 'none_failed', heartbeatTimeout: '5m' },
        ({ task }) => {
          task(extract, { day: 'x' });
          task(slow);
          task(slow, undefined, { id: 'slow_override', retries: 1, executionTimeout: 90_000, retryBackoff: 3, maxRetryDelay: '1h', taskQueue: 'gpu', doc: 'Mine.' });
        },
      ),
    );
    const plain = byId(spec, 'extract');
    assert.deepEqual(plain.retry, { retries: 3, initialIntervalMs: 30_000, backoffCoefficient: 2, maxIntervalMs: 600_000 });
    assert.equal(plain.executionTimeoutMs, 7_200_000);
    assert.equal(plain.heartbeatTimeoutMs, 300_000);
    assert.equal(plain.triggerRule, 'none_failed');
    assert.equal(plain.taskQueue, undefined);

    const fromDef = byId(spec, 'slow');
    assert.equal(fromDef.retry.retries, 5);
    assert.equal(fromDef.executionTimeoutMs, 4 * 3_600_000);
    assert.equal(fromDef.doc, 'Takes a while.');

    const overridden = byId(spec, 'slow_override');
    assert.deepEqual(overridden.retry, { retries: 1, initialIntervalMs: 30_000, backoffCoefficient: 3, maxIntervalMs: 3_600_000 });
    assert.equal(overridden.executionTimeoutMs, 90_000);
    assert.equal(overridden.taskQueue, 'gpu');
    assert.equal(overridden.doc, 'Mine.');
  });

  it('uses Airflow-like defaults when nothing is set', () => {
    const spec = compile(dag('bare', ({ task }) => void task(extract, { day: 'x' })));
    const t = byId(spec, 'extract');
    assert.deepEqual(t.retry, { retries: 0, initialIntervalMs: 10_000, backoffCoefficient: 2, maxIntervalMs: 600_000 });
    assert.equal(t.executionTimeoutMs, 3_600_000);
    assert.equal(t.heartbeatTimeoutMs, 30_000, 'every task heartbeats, so a lost worker is noticed in 30 s');
    assert.equal(t.triggerRule, 'all_success');
    assert.deepEqual(
      { ...spec, tasks: undefined, version: undefined },
      { dagId: 'bare', tags: [], schedule: null, catchup: false, maxActiveRuns: 16, maxActiveTasks: 16, operatorWindowMs: 86_400_000, taskQueue: 'sluice', tasks: undefined, version: undefined },
    );
  });

  it('compiles DAG-level settings and callbacks', () => {
    const spec = compile(
      dag(
        'settings',
        {
          schedule: '0 2 * * *',
          timezone: 'Europe/Berlin',
          catchup: true,
          maxActiveRuns: 1,
          maxActiveTasks: 4,
          operatorWindow: '2h',
          taskQueue: 'etl',
          tags: ['orders'],
          description: 'Orders.',
          onFailure: callback(notify, { channel: '#data', dag: runContext.dagId }),
          onSuccess: callback(notify, { channel: '#ok', dag: tpl`${runContext.dagId} on ${runContext.ds}` }),
        },
        ({ task }) => void task(extract, { day: 'x' }),
      ),
    );
    assert.deepEqual(spec.schedule, { cron: '0 2 * * *', timezone: 'Europe/Berlin' });
    assert.equal(spec.catchup, true);
    assert.equal(spec.maxActiveRuns, 1);
    assert.equal(spec.maxActiveTasks, 4);
    assert.equal(spec.operatorWindowMs, 7_200_000);
    assert.equal(spec.taskQueue, 'etl');
    assert.deepEqual(spec.tags, ['orders']);
    assert.equal(spec.description, 'Orders.');
    assert.deepEqual(spec.onFailure, { activity: 'notify', input: { channel: '#data', dag: { $ctx: 'dagId' } } });
    assert.deepEqual(spec.onSuccess?.input, { channel: '#ok', dag: { $tpl: { strings: ['', ' on ', ''], values: [{ $ctx: 'dagId' }, { $ctx: 'ds' }] } } });
    assert.equal(byId(spec, 'extract').taskQueue, undefined, 'tasks run on the DAG queue unless they name one');
  });

  it('does not run the DAG function at import, and produces a JSON-round-trippable spec', () => {
    let calls = 0;
    const definition = dag('lazy', ({ task }) => {
      calls += 1;
      task(extract, { day: 'x' });
    });
    assert.equal(calls, 0);
    const spec = compile(definition);
    assert.equal(calls, 1);
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  });

  it('drops undefined input members, as JSON would', () => {
    const spec = compile(dag('undef', ({ task }) => void task(extract, { day: 'x', extra: undefined } as { day: string })));
    assert.deepEqual(byId(spec, 'extract').input, { day: 'x' });
  });
});

describe('spec version', () => {
  const build = (day: string, retries = 0) =>
    dag('versioned', { retries }, ({ task }) => {
      task(transform, task(extract, { day }));
    });

  it('is stable across compiles and key order', () => {
    const a = compile(build('x'));
    const b = compile(build('x'));
    assert.equal(a.version, b.version);
    const { version, ...rest } = a;
    const reordered = Object.fromEntries(Object.entries(rest).reverse()) as Omit<DagSpec, 'version'>;
    assert.equal(specVersion(reordered), version);
    assert.equal(specVersion({ ...rest, version: 'ignored' }), version);
  });

  it('changes when a task changes', () => {
    const base = compile(build('x')).version;
    assert.notEqual(compile(build('y')).version, base);
    assert.notEqual(compile(build('x', 2)).version, base);
  });
});
