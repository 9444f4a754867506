/**
 * Compile-time proof that DAG wiring is typed: every `@ts-expect-error` line must fail to
 * compile (tsc reports an unused directive otherwise) and every other line must compile.
 * Checked by `npx tsc -p test/types/tsconfig.json`; nothing here runs.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  callback,
  compileDag,
  dag,
  defineBranch,
  defineSensor,
  defineTask,
  runContext,
  tpl,
  validateParams,
  type OutputRef,
  type Ref,
  type TaskHandle,
  type TaskLogger,
} from '../../dags/sdk';

interface LakeObject {
  key: string;
  bytes: number;
  meta?: { rows: number };
}

const extract = defineTask('extract', async (input: { day: string; limit?: number }, ctx): Promise<LakeObject> => {
  ctx.log.info({ day: input.day }, 'extracting');
  ctx.log.warn('plain message');
  return { key: `bronze/${input.day}`, bytes: 1 };
});
const validate = defineTask('validate', async (input: LakeObject) => input);
const load = defineTask('load', async (input: { key: string; rows: number }) => input.rows);
const listParts = defineTask('listParts', async (input: LakeObject) => [{ id: input.key, size: 1 }]);
const processPart = defineTask('processPart', async (input: { part: string; region: string }) => ({ rows: 1, part: input.part }));
const summarize = defineTask('summarize', async (input: Array<{ rows: number }>) => input.length);
const noInput = defineTask('noInput', async () => 42);
const flags = defineTask('flags', async (input: { on: boolean; tags: string[]; nested: { deep: { n: number } } }) => input.on);
const keyExists = defineSensor('keyExists', async (input: { key: string }) => input.key.length > 0);
const pick = defineBranch('pick', async (input: { region: string }) => (input.region === 'eu' ? 'eu' : ['us', 'both']));
const notify = defineTask('notify', async (input: { channel: string; dag: string }, ctx) => ctx.outcome?.state);

// A pino logger is a valid task logger.
declare const pinoLogger: Logger;
const _logger: TaskLogger = pinoLogger;

export const typed = dag(
  'typed',
  {
    schedule: '0 2 * * *',
    retries: 3,
    retryDelay: '30s',
    executionTimeout: 60_000,
    params: z.object({ region: z.string().default('eu'), limit: z.number().optional() }),
    onFailure: callback(notify, { channel: '#data', dag: runContext.dagId }),
  },
  ({ task, map, sensor, branch, group, ctx, params }) => {
    // --- correct wiring compiles -------------------------------------------------------------
    const ready = sensor(keyExists, { key: 'landing/x' }, { pokeInterval: '1m', timeout: '6h', softFail: true });
    const raw: TaskHandle<LakeObject> = task(extract, { day: ctx.logicalDate, limit: params.field('limit') }).after(ready);
    const clean = task(validate, raw);
    task(load, { key: clean.field('key'), rows: clean.field('bytes') }, { id: 'load_bytes', retries: 0 });
    const rows: Ref<number | undefined> = clean.field('meta').field('rows');
    task(extract, { day: 'literal', limit: rows }, { id: 'extract_again' });
    const parts = map(processPart, { over: task(listParts, clean), input: (p) => ({ part: p.field('id'), region: params.field('region') }) });
    const summary: OutputRef<number> = task(summarize, parts, { triggerRule: 'all_done', id: 'summary' });
    const first: Ref<{ rows: number; part: string }> = parts.field(0);
    task(noInput);
    task(noInput, undefined, { id: 'no_input_2' });
    task(flags, { on: ready, tags: ['a', ctx.runId], nested: { deep: { n: summary } } });
    group('regions', () => {
      const chosen = branch(pick, { region: params.field('region') });
      task(load, { key: 'eu', rows: 1 }, { id: 'eu_load' }).after(chosen.when('eu', 'both'));
      task(load, { key: 'us', rows: 2 }, { id: 'us_load' }).after([chosen.when('us'), clean]);
      // @ts-expect-error a label the branch cannot return
      task(load, { key: 'asia', rows: 3 }, { id: 'asia_load' }).after(chosen.when('asia'));
      // @ts-expect-error an arm needs a label
      chosen.when();
    });
    // Templated strings and Airflow's macros are typed values.
    task(extract, { day: tpl`landing/${params.field('region')}/dt=${ctx.ds}/n=${1}` }, { id: 'templated' });
    task(extract, { day: ctx.dsNodash }, { id: 'nodash' });
    const prev: Ref<string | null> = ctx.prevDs;
    void prev;
    // @ts-expect-error prevDs may be null (a DAG without a schedule has no previous fire)
    task(extract, { day: ctx.prevDs }, { id: 'prev' });
    // @ts-expect-error tpl takes scalars, not a whole output
    task(extract, { day: tpl`${clean}` }, { id: 'bad_tpl' });
    void first;

    // --- wrong wiring does not ---------------------------------------------------------------
    // @ts-expect-error a Ref<number> where a string is expected
    task(extract, { day: clean.field('bytes') });
    // @ts-expect-error a missing required field
    task(extract, { limit: 3 });
    // @ts-expect-error undefined for a required field
    task(extract, { day: undefined });
    // @ts-expect-error an unknown field
    task(extract, { day: ctx.logicalDate, region: 'eu' });
    // @ts-expect-error the whole output has the wrong shape
    task(load, raw);
    // @ts-expect-error no such field on the output
    clean.field('nope');
    // @ts-expect-error no such param
    params.field('regoin');
    // @ts-expect-error a param of the wrong type (limit is number | undefined)
    task(extract, { day: params.field('limit') });
    // @ts-expect-error an optional output into a required input
    task(load, { key: clean.field('key'), rows: rows });
    // @ts-expect-error the input is required
    task(extract);
    // @ts-expect-error a sensor used as a task
    task(keyExists, { key: 'x' });
    // @ts-expect-error a branch used as a task
    task(pick, { region: 'eu' });
    // @ts-expect-error a task used as a sensor
    sensor(extract, { day: 'x' });
    // @ts-expect-error a plain task used as a branch
    branch(validate, raw);
    // @ts-expect-error map over something that is not a list
    map(processPart, { over: clean, input: (p) => ({ part: p, region: 'eu' }) });
    // @ts-expect-error map over a param (only task outputs can be mapped over)
    map(processPart, { over: params.field('region') as unknown as Ref<string[]>, input: (p) => ({ part: p, region: 'eu' }) });
    // @ts-expect-error the item is an object, the input wants a string
    map(processPart, { over: task(listParts, clean, { id: 'lp2' }), input: (p) => ({ part: p, region: 'eu' }) });
    // @ts-expect-error a nested field of the wrong type
    task(flags, { on: true, tags: ['a'], nested: { deep: { n: ctx.logicalDate } } });
    // @ts-expect-error an array element of the wrong type
    task(flags, { on: true, tags: ['a', summary], nested: { deep: { n: 1 } } });
    // @ts-expect-error a misspelled option
    task(validate, raw, { retry: 3 });
    // @ts-expect-error an invalid trigger rule
    task(validate, raw, { triggerRule: 'all_sucess' });
    // @ts-expect-error a malformed duration
    task(validate, raw, { executionTimeout: '5 minutes' });
    // @ts-expect-error .after() takes handles, not values
    task(noInput, undefined, { id: 'n3' }).after('extract');
    // @ts-expect-error a ctx value is a string
    const _n: Ref<number> = ctx.logicalDate;
  },
);

// Output types flow into downstream inputs across DAG boundaries of the type system.
const params = validateParams(typed, { region: 'us' });
if (params.ok) {
  const _region: string = params.params.region;
  const _limit: number | undefined = params.params.limit;
  // @ts-expect-error params are typed
  const _wrong: number = params.params.region;
}
compileDag(typed);

// @ts-expect-error params must be a zod object
dag('bad_params', { params: z.string() }, () => {});
// @ts-expect-error callback input is checked against the definition
callback(notify, { channel: 1, dag: 'x' });
// @ts-expect-error unknown DAG option
dag('bad_option', { schedul: '0 * * * *' }, () => {});
// The smallest DAG.
export const tiny = dag('tiny', ({ task, params }) => {
  task(noInput);
  // @ts-expect-error a DAG without a params schema has no params
  params.field('region');
});

// An `unknown` input field takes anything, Refs included; a Ref<unknown> fits no typed field.
const anything = defineTask('anything', async (input: { payload: unknown }) => input.payload);
export const loose = dag('loose', ({ task }) => {
  const any = task(anything, { payload: undefined });
  task(anything, { payload: { nested: [any, 1, null] } }, { id: 'anything_2' });
  // @ts-expect-error Ref<unknown> where a string is expected
  task(extract, { day: any });
});
