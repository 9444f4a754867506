import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  callback,
  catalogFrom,
  compileDag,
  dag,
  defineBranch,
  defineSensor,
  defineTask,
  validateDag,
  type DagDefinition,
  type DagError,
  type DagErrorCode,
  type TaskHandle,
} from '../../dags/sdk';

const FILE = 'dags/broken.ts';
const extract = defineTask('extract', async (input: { day: string }) => ({ key: input.day }));
const transform = defineTask('transform', async (input: { key: string }) => input);
const listDays = defineTask('listDays', async () => ['2026-01-01']);
const keyExists = defineSensor('keyExists', async (input: { key: string }) => input.key !== '');
const catalog = catalogFrom([extract, transform, listDays, keyExists]);

function errorsOf(definition: DagDefinition, options: { catalog?: typeof catalog } = {}): DagError[] {
  return compileDag(definition, { file: FILE, ...options }).errors;
}

/** Asserts exactly one error with `code`, naming the file (and the task, when given), matching `pattern`. */
function expectError(errors: DagError[], code: DagErrorCode, pattern: RegExp, task?: string): DagError {
  const matching = errors.filter((e) => e.code === code);
  assert.equal(matching.length, 1, `one ${code} error in:\n${errors.map((e) => e.message).join('\n')}`);
  const error = matching[0] as DagError;
  assert.ok(error.message.startsWith(`${FILE}: dag '`), error.message);
  if (task !== undefined) {
    assert.equal(error.task, task);
    assert.ok(error.message.includes(`task '${task}'`), error.message);
  }
  assert.match(error.message, pattern);
  return error;
}

describe('DAG validation', () => {
  it('reports a cycle, naming the tasks in it', () => {
    const errors = errorsOf(
      dag('cyclic', ({ task }) => {
        const a = task(extract, { day: 'x' });
        const b = task(transform, a);
        const c = task(transform, b, { id: 'c' });
        a.after(c);
      }),
    );
    expectError(errors, 'cycle', /cycle: extract -> transform -> c -> extract/, 'extract');
    assert.equal(errors.length, 1);
  });

  it('reports a task that waits for itself', () => {
    const errors = errorsOf(
      dag('self_cycle', ({ task }) => {
        const a = task(extract, { day: 'x' });
        a.after(a);
      }),
    );
    expectError(errors, 'cycle', /cycle: extract -> extract/, 'extract');
  });

  it('reports a duplicate task id with a hint to pass { id }', () => {
    const errors = errorsOf(
      dag('dupes', ({ task }) => {
        task(extract, { day: 'a' });
        task(extract, { day: 'b' });
      }),
    );
    expectError(errors, 'duplicate_task_id', /duplicate task id 'extract'.*'extract' is used twice; pass \{ id: '\.\.\.' \}/, 'extract');
  });

  it('reports an explicit id that collides with another activity', () => {
    const errors = errorsOf(
      dag('dupes_explicit', ({ task }) => {
        task(extract, { day: 'a' });
        task(transform, { key: 'k' }, { id: 'extract' });
      }),
    );
    expectError(errors, 'duplicate_task_id', /activities 'extract' and 'transform'/, 'extract');
  });

  it('reports an activity missing from the catalog', () => {
    const orphan = defineTask('orphan', async () => 1);
    const errors = errorsOf(dag('unknown', ({ task }) => void task(orphan)), { catalog });
    expectError(errors, 'unknown_activity', /activity 'orphan' is not in the activity catalog/, 'orphan');
  });

  it('accepts the catalog as a plain list of definitions', () => {
    const orphan = defineTask('orphan', async () => 1);
    const { errors } = compileDag(dag('unknown_list', ({ task }) => void task(orphan)), { file: FILE, catalog: [extract] });
    expectError(errors, 'unknown_activity', /'orphan'/, 'orphan');
  });

  it('reports two different definitions sharing a name', () => {
    const impostor = defineTask('extract', async (input: { day: string }) => ({ key: input.day }));
    const errors = errorsOf(
      dag('conflict', ({ task }) => {
        task(extract, { day: 'a' });
        task(impostor, { day: 'b' }, { id: 'second' });
      }),
    );
    expectError(errors, 'activity_name_conflict', /different definition than task 'extract'/, 'second');

    const withCatalog = errorsOf(dag('conflict_catalog', ({ task }) => void task(impostor, { day: 'b' })), { catalog });
    expectError(withCatalog, 'activity_name_conflict', /different definition than the catalog's 'extract'/, 'extract');
  });

  it('reports an invalid cron schedule', () => {
    const errors = errorsOf(dag('bad_cron', { schedule: '61 * * * *' }, ({ task }) => void task(extract, { day: 'x' })));
    expectError(errors, 'invalid_schedule', /invalid cron schedule "61 \* \* \* \*": 61 is a invalid expression for minute/);
    const garbage = errorsOf(dag('bad_cron2', { schedule: 'every day' }, ({ task }) => void task(extract, { day: 'x' })));
    expectError(garbage, 'invalid_schedule', /"every day"/);
  });

  it('reports an invalid time zone', () => {
    const errors = errorsOf(dag('bad_tz', { schedule: '0 2 * * *', timezone: 'Mars/Olympus' }, ({ task }) => void task(extract, { day: 'x' })));
    expectError(errors, 'invalid_timezone', /invalid time zone "Mars\/Olympus"/);
  });

  it('reports a params schema that is not a zod object', () => {
    const errors = errorsOf(dag('bad_params', { params: z.string() as never }, ({ task }) => void task(extract, { day: 'x' })));
    expectError(errors, 'invalid_params', /params must be a zod object schema .* got a zod string schema/);
  });

  it('reports a params default that its own field rejects, but allows required fields', () => {
    const errors = errorsOf(
      dag('bad_default', { params: z.object({ limit: z.number().min(5).default(2), region: z.string() }) }, ({ task }) => void task(extract, { day: 'x' })),
    );
    expectError(errors, 'invalid_params', /param 'limit': default 2 is invalid: Too small/);
    assert.equal(errors.length, 1, 'a required field without default is not an error');
  });

  it('reports a handle from another DAG as a dangling reference', () => {
    let foreign: TaskHandle<{ key: string }> | undefined;
    errorsOf(dag('first', ({ task }) => void (foreign = task(extract, { day: 'x' }))));
    assert.ok(foreign);
    const stolen = foreign;

    const errors = errorsOf(dag('second', ({ task }) => void task(transform, stolen)));
    expectError(errors, 'dangling_reference', /input refers to task 'extract', which is not part of this DAG/, 'transform');

    const viaField = errorsOf(dag('third', ({ task }) => void task(transform, { key: stolen.field('key') })));
    expectError(viaField, 'dangling_reference', /input\.key refers to task 'extract'/, 'transform');

    const viaAfter = errorsOf(dag('fourth', ({ task }) => void task(listDays).after(stolen)));
    expectError(viaAfter, 'dangling_reference', /\.after\(\) refers to task 'extract'/, 'listDays');

    const onForeign = errorsOf(dag('fifth', ({ task }) => void stolen.after(task(listDays))));
    expectError(onForeign, 'dangling_reference', /task 'extract' belongs to DAG 'first'/);
  });

  it('reports an invalid trigger rule', () => {
    const errors = errorsOf(dag('bad_rule', ({ task }) => void task(extract, { day: 'x' }, { triggerRule: 'all_sucess' as never })));
    expectError(errors, 'invalid_trigger_rule', /invalid trigger rule "all_sucess": use one of all_success/, 'extract');
  });

  it('reports invalid durations, naming the option', () => {
    const errors = errorsOf(
      dag('bad_durations', { operatorWindow: 'a day' as never }, ({ task, sensor }) => {
        task(extract, { day: 'x' }, { executionTimeout: '5 minutes' as never, retryDelay: -1 });
        task(transform, { key: 'k' }, { retryDelay: '10m', maxRetryDelay: '1m' });
        sensor(keyExists, { key: 'k' }, { pokeInterval: 0 });
      }),
    );
    const durations = errors.filter((e) => e.code === 'invalid_duration');
    const find = (pattern: RegExp) => durations.find((e) => pattern.test(e.message));
    assert.ok(find(/^dags\/broken\.ts: dag 'bad_durations': operatorWindow: invalid duration "a day"/), durations.map((e) => e.message).join('\n'));
    assert.ok(find(/task 'extract': executionTimeout: invalid duration "5 minutes"/));
    assert.ok(find(/task 'extract': retryDelay: invalid duration -1/));
    assert.ok(find(/task 'transform': maxRetryDelay \(60000ms\) is shorter than retryDelay \(600000ms\)/));
    assert.ok(find(/task 'keyExists': pokeInterval must be a duration > 0/));
    assert.equal(durations.length, 5);
  });

  it('reports a dag id that is not [a-z0-9_]+', () => {
    const errors = errorsOf(dag('Daily-Orders', ({ task }) => void task(extract, { day: 'x' })));
    expectError(errors, 'invalid_dag_id', /dag id "Daily-Orders" must match \[a-z0-9_\]\+/);
  });

  it('reports an invalid explicit task id and group name', () => {
    const errors = errorsOf(
      dag('bad_ids', ({ task, group }) => {
        task(extract, { day: 'x' }, { id: 'has space' });
        group('a.b', () => task(listDays));
      }),
    );
    const ids = errors.filter((e) => e.code === 'invalid_task_id').map((e) => e.message);
    assert.ok(ids.some((m) => m.includes(`task 'has space': id "has space" must use letters`)), ids.join('\n'));
    assert.ok(ids.some((m) => m.includes(`group name "a.b" must use letters`)), ids.join('\n'));
  });

  it('rejects a sensor or branch definition used with the wrong builder function', () => {
    const errors = errorsOf(dag('wrong_kind', ({ task }) => void task(keyExists as never, { key: 'x' })));
    expectError(errors, 'wrong_task_kind', /'keyExists' is defined as a sensor; use sensor\(\.\.\.\) for it, not task\(\.\.\.\)/, 'keyExists');
    const mapped = errorsOf(dag('wrong_kind_map', ({ task, map }) => void map(keyExists as never, { over: task(listDays), input: (d) => ({ key: d }) })));
    expectError(mapped, 'wrong_task_kind', /not map\(\.\.\.\)/, 'keyExists');
  });

  it('reports inputs JSON cannot carry', () => {
    const errors = errorsOf(
      dag('bad_input', ({ task }) => {
        task(extract, { day: new Date(0) as never });
        task(transform, { key: (() => 'x') as never });
      }),
    );
    expectError(errors.filter((e) => e.task === 'extract'), 'invalid_input', /input\.day: a Date is not plain JSON data \(pass an ISO string\)/, 'extract');
    expectError(errors.filter((e) => e.task === 'transform'), 'invalid_input', /input\.key: a function is not JSON/, 'transform');
  });

  it('reports a map item used outside its map and a map over a non-output', () => {
    const echo = defineTask('echo', async (input: string) => input);
    const errors = errorsOf(
      dag('bad_map', ({ task, map, params }) => {
        map(echo, {
          over: task(listDays),
          input: (day) => {
            task(echo, day, { id: 'leak' });
            return day;
          },
        });
        map(echo, { over: params as never, input: (d) => d as never }, { id: 'over_params' });
      }),
    );
    expectError(errors, 'invalid_input', /input uses the item of map 'echo' outside that map's input function/, 'leak');
    expectError(errors, 'invalid_map', /map 'over' must be a task output .* got a context reference/, 'over_params');
  });

  it('reports unknown options', () => {
    const errors = errorsOf(dag('typo', { retry: 3 } as never, ({ task }) => void task(extract, { day: 'x' }, { retires: 2 } as never)));
    const options = errors.filter((e) => e.code === 'invalid_option').map((e) => e.message);
    assert.ok(options.some((m) => /dag 'typo': unknown DAG option 'retry'/.test(m)), options.join('\n'));
    assert.ok(options.some((m) => /task 'extract': unknown task option 'retires'/.test(m)), options.join('\n'));
  });

  it('reports out-of-range numbers', () => {
    const errors = errorsOf(
      dag('ranges', { maxActiveRuns: 0, maxActiveTasks: 1.5 }, ({ task }) => void task(extract, { day: 'x' }, { retries: -1, retryBackoff: 0.5 })),
    );
    const messages = errors.map((e) => e.message);
    for (const pattern of [/maxActiveRuns must be a whole number >= 1, got 0/, /maxActiveTasks must be a whole number >= 1, got 1.5/, /task 'extract': retries must be a whole number >= 0, got -1/, /task 'extract': retryBackoff must be a number >= 1, got 0.5/]) {
      assert.ok(messages.some((m) => pattern.test(m)), `${String(pattern)} in\n${messages.join('\n')}`);
    }
  });

  it('reports a DAG function that throws or is async', () => {
    const throws = errorsOf(
      dag('throws', ({ task }) => {
        task(extract, { day: 'x' });
        throw new Error('boom');
      }),
    );
    expectError(throws, 'build_failed', /the DAG function threw: boom/);
    const asynchronous = errorsOf(dag('async', (async () => undefined) as never));
    expectError(asynchronous, 'build_failed', /must be synchronous/);
  });

  it('reports callbacks that reference task outputs or are not in the catalog', () => {
    const notify = defineTask('notify', async (input: { note: unknown }) => input);
    let handle: TaskHandle<{ key: string }> | undefined;
    errorsOf(dag('donor', ({ task }) => void (handle = task(extract, { day: 'x' }))));
    const errors = errorsOf(dag('cb', { onFailure: callback(notify, { note: handle }) }, ({ task }) => void task(extract, { day: 'x' })), { catalog });
    expectError(errors, 'invalid_input', /onFailure input\.note: callbacks can use run context and params only/);
    expectError(errors, 'unknown_activity', /onFailure: activity 'notify' is not in the activity catalog/);
  });

  it('reports a Ref put inside an ordinary template string, naming the task and field', () => {
    const errors = errorsOf(
      dag('stringified', ({ task, ctx }) => {
        // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the mistake under test
        const raw = task(extract, { day: `landing/dt=${ctx.logicalDate}/` });
        // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the mistake under test
        task(extract, { day: `from ${raw.field('key')}` }, { id: 'again' });
      }),
    );
    const [first, second] = errors.filter((e) => e.code === 'invalid_input');
    assert.equal(errors.length, 2, errors.map((e) => e.message).join('\n'));
    assert.equal(
      first?.message,
      `${FILE}: dag 'stringified', task 'extract': input.day: ctx.logicalDate was put inside a string with \${...}, where it can only become "[object Object]" (it has no value until the run); build the string with tpl\`...\` instead`,
    );
    assert.match(second?.message ?? '', /task 'again': input\.day: the output of 'extract'\.key was put inside a string/);
  });

  it('reports a task after a branch that joins none of its arms', () => {
    const pick = defineBranch('pick', async () => 'a' as const);
    const errors = errorsOf(
      dag('armless', ({ task, branch }) => {
        const choice = branch(pick);
        task(extract, { day: 'x' }).after(choice);
        task(transform, { key: 'y' }).after(choice.when('a'));
      }),
    );
    expectError(errors, 'invalid_input', /follows branch 'pick' without joining one of its arms: use \.after\(pick\.when\('<label>'\)\)/, 'extract');
    assert.equal(errors.length, 1);
  });

  it('reports params JSON Schema cannot carry, and required params on a scheduled DAG', () => {
    const transformed = errorsOf(dag('transformed', { params: z.object({ n: z.string().transform(Number), c: z.coerce.number() }) }, ({ task }) => void task(listDays)));
    assert.deepEqual(
      transformed.map((e) => e.detail),
      [
        "param 'n': transforms and pipes are not supported; params are plain JSON, checked against their JSON Schema when a run starts",
        "param 'c': z.coerce is not supported; params are plain JSON (pass a number as a number)",
      ],
    );
    const refined = errorsOf(dag('refined', { params: z.object({ d: z.string().refine((v) => v.length > 1) }) }, ({ task }) => void task(listDays)));
    expectError(refined, 'invalid_params', /param 'd': \.refine\(\) checks are not supported/);
    const scheduled = errorsOf(dag('needs_day', { schedule: '0 6 * * *', params: z.object({ day: z.string(), region: z.string().default('eu') }) }, ({ task }) => void task(listDays)));
    expectError(scheduled, 'invalid_params', /param 'day' has no default, but scheduled runs start without params: give it a default/);
  });

  it('reports ids too long for Temporal, which would wedge a run', () => {
    const long = 'x'.repeat(201);
    const errors = errorsOf(dag('long_ids', ({ task, group }) => group('g', () => void task(listDays, undefined, { id: long }))));
    expectError(errors, 'invalid_task_id', /task id is 203 characters long \(group prefixes included\); the limit is 200/, `g.${long}`);
    expectError(errorsOf(dag('d'.repeat(201), ({ task }) => void task(listDays))), 'invalid_dag_id', /dag id is 201 characters long; the limit is 200/);
  });

  it('validateDag checks hand-made specs too', () => {
    const { spec } = compileDag(dag('hand_made', ({ task }) => void task(extract, { day: 'x' })));
    const broken = { ...spec, tasks: [{ ...spec.tasks[0]!, upstream: ['ghost'] }] };
    const errors = validateDag(broken, { file: FILE });
    expectError(errors, 'dangling_reference', /depends on 'ghost', which is not a task of this DAG/, 'extract');
  });

  it('compiles a correct DAG against the catalog without errors', () => {
    const errors = errorsOf(
      dag('fine', { schedule: '*/5 * * * *', timezone: 'America/New_York' }, ({ task, sensor }) => {
        task(transform, task(extract, { day: 'x' })).after(sensor(keyExists, { key: 'k' }));
      }),
      { catalog },
    );
    assert.deepEqual(errors, []);
  });
});
