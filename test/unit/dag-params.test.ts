import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { checkParamsSchema, dag, defineTask, validateParams } from '../../dags/sdk';

const noop = defineTask('noop', async () => null);
const orders = dag(
  'orders',
  {
    params: z.object({
      region: z.string().default('eu'),
      limit: z.number().int().positive().optional(),
      window: z.object({ days: z.number().default(1) }).default({ days: 1 }),
    }),
  },
  ({ task }) => void task(noop),
);

describe('validateParams', () => {
  it('applies defaults to missing, null or undefined params', () => {
    for (const raw of [undefined, null, {}]) {
      assert.deepEqual(validateParams(orders, raw), { ok: true, params: { region: 'eu', window: { days: 1 } } });
    }
  });

  it('keeps supplied values', () => {
    const result = validateParams(orders, { region: 'us', limit: 10, window: { days: 7 } });
    assert.deepEqual(result, { ok: true, params: { region: 'us', limit: 10, window: { days: 7 } } });
  });

  it('names the field path in errors', () => {
    assert.deepEqual(validateParams(orders, { region: 1 }), { ok: false, error: "param 'region': expected string, received number" });
    const nested = validateParams(orders, { window: { days: 'seven' } });
    assert.equal(nested.ok, false);
    assert.equal(!nested.ok && nested.error, "param 'window.days': expected number, received string");
    const several = validateParams(orders, { region: 1, limit: -2 });
    assert.equal(!several.ok && several.error, "param 'region': expected string, received number; param 'limit': Too small: expected number to be >0");
  });

  it('rejects unknown params, listing the known ones', () => {
    assert.deepEqual(validateParams(orders, { regoin: 'us' }), { ok: false, error: "param 'regoin': unknown param (known: region, limit, window)" });
    const none = dag('none', ({ task }) => void task(noop));
    assert.deepEqual(validateParams(none, {}), { ok: true, params: {} });
    assert.deepEqual(validateParams(none, { x: 1 }), { ok: false, error: "param 'x': unknown param (this DAG declares none)" });
  });

  it('accepts extra keys when the schema is loose', () => {
    const loose = dag('loose', { params: z.looseObject({ a: z.string().default('x') }) }, ({ task }) => void task(noop));
    assert.deepEqual(validateParams(loose, { b: 2 }), { ok: true, params: { a: 'x', b: 2 } });
  });

  it('reports required params and non-object input', () => {
    const required = dag('required', { params: z.object({ day: z.string() }) }, ({ task }) => void task(noop));
    assert.deepEqual(validateParams(required, {}), { ok: false, error: "param 'day': required (expected string)" });
    assert.deepEqual(validateParams(orders, 'eu'), { ok: false, error: 'params must be a JSON object, got string' });
    assert.deepEqual(validateParams(orders, ['eu']), { ok: false, error: 'params must be a JSON object, got an array' });
  });
});

describe('checkParamsSchema', () => {
  it('accepts object schemas whose defaults parse, with or without required fields', () => {
    assert.deepEqual(checkParamsSchema(z.object({ a: z.string().default('x'), b: z.number() })), []);
    assert.deepEqual(checkParamsSchema(z.strictObject({})), []);
  });

  it('rejects non-object schemas and bad defaults, including nested ones', () => {
    assert.deepEqual(checkParamsSchema(z.array(z.string())), ['params must be a zod object schema (z.object({...})), got a zod array schema']);
    assert.deepEqual(checkParamsSchema({ region: 'eu' }), ['params must be a zod object schema (z.object({...})), got object']);
    assert.deepEqual(checkParamsSchema(z.object({ w: z.object({ d: z.string().length(2).default('abc') }) })), [
      `param 'w.d': default "abc" is invalid: Too big: expected string to have exactly 2 characters`,
    ]);
  });
});
