/**
 * Assets in the SDK (issue 11): tasks' `outlets` and `schedule: { assets }` compile into the spec
 * only when set (other DAGs keep their version), and bad names or combinations are errors that
 * name the file and task. Also the asset edges the CLI and console show.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogFrom, compileDag, dag, defineTask, type DagDefinition, type DagError } from '../../dags/sdk';
import { dagAssets } from '../../server/assets/asset-graph';

const FILE = 'dags/assets.ts';
const load = defineTask('load', async (input: { table: string }) => input.table);
const check = defineTask('check', async () => true);
const catalog = catalogFrom([load, check]);

function compiled(definition: DagDefinition) {
  return compileDag(definition, { file: FILE, catalog });
}

function messages(errors: DagError[]): string[] {
  return errors.map((e) => `${e.code}: ${e.message}`);
}

const producer = dag('producer', { schedule: '0 0 * * *' }, ({ task }) => {
  task(load, { table: 'a' }, { id: 'loadA', outlets: ['warehouse.a'] });
  task(load, { table: 'b' }, { id: 'loadB', outlets: ['warehouse.b', 'lake:silver/b'] });
  task(load, { table: 'c' }, { id: 'loadC' });
});
const consumer = dag('consumer', { schedule: { assets: ['warehouse.a', 'warehouse.b'] } }, ({ task }) => {
  task(check);
});

describe('assets in the SDK', () => {
  it('compiles outlets per task and an asset schedule with a null cron', () => {
    const p = compiled(producer);
    assert.deepEqual(p.errors, []);
    assert.deepEqual(
      p.spec.tasks.map((t) => [t.id, t.outlets]),
      [
        ['loadA', ['warehouse.a']],
        ['loadB', ['warehouse.b', 'lake:silver/b']],
        ['loadC', undefined],
      ],
    );
    assert.equal('outlets' in (p.spec.tasks[2] as object), false, 'no outlets key when none are set');
    const c = compiled(consumer);
    assert.deepEqual(c.errors, []);
    assert.equal(c.spec.schedule, null);
    assert.deepEqual(c.spec.assetSchedule, ['warehouse.a', 'warehouse.b']);
  });

  it('leaves the spec (and its version) of a DAG without assets as it was', () => {
    const plain = compiled(dag('plain', { schedule: '0 0 * * *' }, ({ task }) => void task(check))).spec;
    assert.equal('assetSchedule' in plain, false);
    assert.equal('outlets' in (plain.tasks[0] as object), false);
    const manual = compiled(dag('plain', {}, ({ task }) => void task(check))).spec;
    assert.equal('assetSchedule' in manual, false);
  });

  it('refuses bad asset names, naming the file and task', () => {
    const { errors } = compiled(
      dag('bad_names', {}, ({ task }) => {
        task(load, { table: 'x' }, { id: 'empty', outlets: [''] });
        task(load, { table: 'x' }, { id: 'spaced', outlets: ['warehouse. fact'] });
        task(load, { table: 'x' }, { id: 'long', outlets: ['x'.repeat(201)] });
        task(load, { table: 'x' }, { id: 'twice', outlets: ['a', 'a'] });
        task(load, { table: 'x' }, { id: 'notList', outlets: 'warehouse.a' as unknown as string[] });
      }),
    );
    const byTask = Object.fromEntries(errors.map((e) => [e.task, e]));
    assert.equal(errors.length, 5, messages(errors).join('\n'));
    assert.match(byTask.empty?.message ?? '', /^dags\/assets\.ts: dag 'bad_names', task 'empty': outlets: asset names are non-empty strings/);
    assert.match(byTask.spaced?.message ?? '', /asset name "warehouse\. fact" contains whitespace/);
    assert.match(byTask.long?.message ?? '', /201 characters long; the limit is 200/);
    assert.match(byTask.twice?.message ?? '', /asset 'a' is listed twice/);
    assert.match(byTask.notList?.message ?? '', /outlets must be a list of asset names/);
  });

  it('refuses an empty, oversized or bad asset schedule', () => {
    const empty = compiled(dag('no_assets', { schedule: { assets: [] } }, ({ task }) => void task(check))).errors;
    assert.deepEqual(messages(empty), ["invalid_schedule: dags/assets.ts: dag 'no_assets': schedule.assets must list 1 to 20 asset names, got 0"]);
    const many = Array.from({ length: 21 }, (_, i) => `t.a${i}`);
    assert.match(messages(compiled(dag('too_many', { schedule: { assets: many } }, ({ task }) => void task(check))).errors).join(), /1 to 20 asset names, got 21/);
    const spaced = compiled(dag('spaced', { schedule: { assets: ['ok', 'not ok'] } }, ({ task }) => void task(check))).errors;
    assert.match(messages(spaced).join(), /schedule\.assets: asset name "not ok" contains whitespace/);
    const typo = compiled(dag('typo', { schedule: { assets: ['a'], cron: '0 0 * * *' } as never }, ({ task }) => void task(check))).errors;
    assert.match(messages(typo).join(), /unknown schedule option 'cron'/);
  });

  it('refuses timezone and catchup with an asset schedule, and a DAG scheduled on its own outlets', () => {
    const zoned = compiled(dag('zoned', { schedule: { assets: ['a'] }, timezone: 'Europe/Berlin', catchup: true }, ({ task }) => void task(check))).errors;
    assert.equal(zoned.length, 2, messages(zoned).join('\n'));
    assert.match(messages(zoned).join('\n'), /timezone applies to a cron schedule/);
    assert.match(messages(zoned).join('\n'), /catchup applies to a cron schedule/);
    const loop = compiled(dag('loop', { schedule: { assets: ['a'] } }, ({ task }) => void task(load, { table: 'a' }, { outlets: ['a'] }))).errors;
    assert.deepEqual(messages(loop), ["invalid_schedule: dags/assets.ts: dag 'loop': scheduled on 'a', which its own tasks write: it would trigger itself"]);
  });

  it('is not a DAG-level default: outlets on a DAG are an unknown option', () => {
    const errors = compiled(dag('dag_outlets', { outlets: ['a'] } as never, ({ task }) => void task(check))).errors;
    assert.match(messages(errors).join(), /unknown DAG option 'outlets'/);
  });

  it('finds the producers of a schedule and the consumers of outlets', () => {
    const specs = [compiled(producer).spec, compiled(consumer).spec];
    const [p, c] = specs as [(typeof specs)[0], (typeof specs)[0]];
    assert.deepEqual(dagAssets(specs, c), {
      outlets: [],
      scheduledOn: [
        { asset: 'warehouse.a', producers: [{ dagId: 'producer', taskId: 'loadA' }] },
        { asset: 'warehouse.b', producers: [{ dagId: 'producer', taskId: 'loadB' }] },
      ],
      consumers: [],
    });
    assert.deepEqual(dagAssets(specs, p), {
      outlets: [
        { taskId: 'loadA', assets: ['warehouse.a'] },
        { taskId: 'loadB', assets: ['warehouse.b', 'lake:silver/b'] },
      ],
      scheduledOn: [],
      consumers: [{ dagId: 'consumer', assets: ['warehouse.a', 'warehouse.b'] }],
    });
  });
});
