/**
 * Slot pool options in the SDK (compiled only when set, checked with messages naming the task)
 * and the "why is this not running?" sentence for a task waiting for its pool.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileDag, dag, defineTask } from '../../dags/sdk';
import { whyNotRunning } from '../../server/console/why-waiting';
import { poolHolderKey, poolRefusal } from '../../workflows/pools';

const work = defineTask('work', async () => 1);
const compile = (definition: Parameters<typeof compileDag>[0]) => compileDag(definition, { catalog: [work], file: 'dags/unit.ts' });

describe('pool options', () => {
  it('compile into the spec only when set; a DAG may default them', () => {
    const { spec, errors } = compile(
      dag('pools_unit', { pool: 'warehouse', priorityWeight: 2 }, ({ task }) => {
        task(work, {}, { id: 'a' });
        task(work, {}, { id: 'b', poolSlots: 3, priorityWeight: 9 });
      }),
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(spec.tasks.map((t) => [t.pool, t.poolSlots, t.priorityWeight]), [['warehouse', undefined, 2], ['warehouse', 3, 9]]);
    const plain = compile(dag('pools_unit', {}, ({ task }) => void task(work, {}, { id: 'a', priorityWeight: 4 }))).spec;
    assert.ok(!('pool' in (plain.tasks[0] ?? {})) && !('priorityWeight' in (plain.tasks[0] ?? {})), 'no pool: no pool keys, so the DAG version is unchanged');
  });

  it('are checked, naming the file and the task', () => {
    const { errors } = compile(
      dag('pools_unit', {}, ({ task }) => {
        task(work, {}, { id: 'bad_name', pool: 'no spaces' });
        task(work, {}, { id: 'no_slots', pool: 'p', poolSlots: 0 });
        task(work, {}, { id: 'half_weight', pool: 'p', priorityWeight: 1.5 });
      }),
    );
    const byTask = Object.fromEntries(errors.map((e) => [e.task, e.message]));
    assert.match(byTask.bad_name ?? '', /dags\/unit\.ts.*bad_name.*pool must be a pool name of 1 to 100 letters/);
    assert.match(byTask.no_slots ?? '', /poolSlots must be a whole number from 1 to 10000, got 0/);
    assert.match(byTask.half_weight ?? '', /priorityWeight must be a whole number, got 1.5/);
  });

  it('an ask the pool can never meet is refused with what to do', () => {
    assert.equal(poolRefusal('p', null, 1), "pool 'p' does not exist: create it with `sluice pools set p <slots>`");
    assert.equal(poolRefusal('p', 2, 3), "the task asks for 3 slots of pool 'p', which has 2: lower its poolSlots or `sluice pools set p 3`");
    assert.equal(poolRefusal('p', 0, 3), undefined, 'a closed pool (0 slots) makes tasks wait');
    assert.equal(poolRefusal('p', 3, 3), undefined);
  });
});

describe('why a task waits for its pool', () => {
  const spec = compile(dag('pools_unit', { pool: 'warehouse' }, ({ task }) => void task(work, {}, { id: 'load' }))).spec;
  const run = { state: 'running' as const, tasks: [{ id: 'load', state: 'queued' as const, attempts: 0, waitingFor: { pool: 'warehouse', slots: 1, since: '2026-11-30T04:00:00Z', attempt: 1 } }] };
  const now = new Date('2026-11-30T04:01:00Z');

  it("with the gate's answer: slots in use and the place in line", () => {
    const waiting = [{ key: 'other#1' }, { key: poolHolderKey('r1', 'load', undefined, 1) }];
    const result = whyNotRunning({ spec, runId: 'r1', run, attempts: [], now, pools: { warehouse: { size: 4, inUse: 4, waiting } } });
    assert.match(result.tasks[0]?.reason ?? '', /^waits for pool warehouse \(4 of 4 slots in use, position 2 of 2; asks 1 slot, since .+\)$/);
  });

  it('without it: the pool and the ask, and where to look', () => {
    const result = whyNotRunning({ spec, runId: 'r1', run, attempts: [], now });
    assert.match(result.tasks[0]?.reason ?? '', /^waits for pool warehouse \(asks 1 slot, since .+\); `sluice pools list` shows who holds its slots$/);
  });
});
