import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { paramsJsonSchema, parseParams } from '../../dags/sdk/params';
import { paramErrors, paramFields, paramsFormHtml, type ParamField } from '../../server/console/params-form';

const schema = paramsJsonSchema(
  z.object({
    region: z.string().describe('Sales region, e.g. eu'),
    ratio: z.number().min(0).max(1),
    batch: z.int().min(1).max(500).default(100).meta({ title: 'Batch size' }),
    positive: z.int().positive(),
    dryRun: z.boolean().default(false),
    mode: z.enum(['full', 'delta']),
    day: z.iso.date(),
    at: z.iso.datetime().optional(),
    note: z.string().optional(),
    level: z.enum(['low', 'high']).nullable().default('low'),
    tags: z.array(z.string()).default(['daily']),
    window: z.object({ days: z.number() }).optional(),
  }),
);
const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

describe('paramFields', () => {
  it('gives each param its type, bounds, default, options and help', () => {
    const fields = paramFields(schema);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    assert.deepEqual(
      fields.map((f) => f.name),
      ['region', 'ratio', 'batch', 'positive', 'dryRun', 'mode', 'day', 'at', 'note', 'level', 'tags', 'window'],
    );
    assert.deepEqual(byName.region, { name: 'region', label: 'region', type: 'string', required: true, description: 'Sales region, e.g. eu' });
    assert.deepEqual(byName.ratio, { name: 'ratio', label: 'ratio', type: 'number', required: true, minimum: 0, maximum: 1 });
    assert.deepEqual(byName.batch, { name: 'batch', label: 'Batch size', type: 'integer', required: false, default: 100, minimum: 1, maximum: 500 });
    assert.deepEqual(byName.positive, { name: 'positive', label: 'positive', type: 'integer', required: true, minimum: 1 });
    assert.deepEqual(byName.dryRun, { name: 'dryRun', label: 'dryRun', type: 'boolean', required: false, default: false });
    assert.deepEqual(byName.mode, { name: 'mode', label: 'mode', type: 'enum', required: true, options: ['full', 'delta'] });
    assert.deepEqual(byName.day, { name: 'day', label: 'day', type: 'date', required: true });
    assert.deepEqual(byName.at, { name: 'at', label: 'at', type: 'string', required: false, placeholder: '2026-11-30T04:00:00Z' });
    assert.deepEqual(byName.note, { name: 'note', label: 'note', type: 'string', required: false });
    assert.deepEqual(byName.level, { name: 'level', label: 'level', type: 'enum', required: false, default: 'low', options: ['low', 'high'] });
    assert.equal(byName.tags?.type, 'json');
    assert.deepEqual(byName.tags?.default, ['daily']);
    assert.equal(byName.window?.type, 'json');
  });

  it('reads unions of literals as enums, mixed types as JSON, and no schema as no fields', () => {
    const fields = paramFields(paramsJsonSchema(z.object({ pick: z.union([z.literal('a'), z.literal('b')]), one: z.literal('x'), any: z.union([z.string(), z.number()]) })));
    assert.deepEqual(fields.map((f) => [f.name, f.type, f.options]), [
      ['pick', 'enum', ['a', 'b']],
      ['one', 'enum', ['x']],
      ['any', 'json', undefined],
    ]);
    assert.deepEqual(paramFields(undefined), []);
    assert.deepEqual(paramFields({ type: 'object', properties: {} }), []);
  });
});

describe('paramsFormHtml', () => {
  const html = paramsFormHtml(paramFields(schema), esc);
  const fieldHtml = (name: string) => html.split('\n').find((line) => line.includes(`name="${name}"`)) ?? '';

  it('renders a labelled input per param, typed, pre-filled and with an empty error slot', () => {
    assert.match(fieldHtml('region'), /<label for="param-0">region<input type="text" id="param-0" name="region" aria-describedby="param-0-help" required><\/label><small class="help" id="param-0-help">Sales region, e.g. eu<\/small><small class="field-error" data-error-for="region" aria-live="polite"><\/small>/);
    assert.match(fieldHtml('ratio'), /<input type="number" [^>]*data-type="number" min="0" max="1" step="any" required>/);
    assert.match(fieldHtml('batch'), /Batch size<input type="number" [^>]*data-type="integer" min="1" max="500" step="1" value="100">/);
    assert.match(fieldHtml('dryRun'), /<label class="check"><input type="checkbox" [^>]*name="dryRun" data-type="boolean"> dryRun<\/label>/);
    assert.doesNotMatch(fieldHtml('dryRun'), /required|checked/);
    assert.match(fieldHtml('mode'), /<select [^>]*name="mode" required><option value="">— choose —<\/option><option value="full">full<\/option><option value="delta">delta<\/option><\/select>/);
    assert.match(fieldHtml('level'), /<select [^>]*name="level"><option value="low" selected>low<\/option><option value="high">high<\/option><\/select>/);
    assert.match(fieldHtml('day'), /<input type="date" [^>]*name="day" required>/);
    assert.match(fieldHtml('at'), /<input type="text" [^>]*name="at" placeholder="2026-11-30T04:00:00Z">/);
    assert.match(html, /<textarea [^>]*name="tags" data-type="json" rows="3" placeholder="[^"]*">\[\n {2}&#34;daily&#34;\n\]<\/textarea>/);
    for (const field of paramFields(schema)) {
      assert.equal(html.split(`<small class="field-error" data-error-for="${field.name}" aria-live="polite"></small>`).length, 2, field.name);
    }
    assert.doesNotMatch(html, /style=|<script|\son\w+=/i, 'nothing the CSP forbids');
  });

  it('escapes what the DAG author wrote', () => {
    const fields: ParamField[] = [
      { name: 'x"y', label: '<i>label</i>', type: 'enum', required: false, default: '"b"', options: ['a<', '"b"'], description: '<script>alert(1)</script>' },
      { name: 'z', label: 'z', type: 'string', required: false, default: '"><script>alert(2)</script>' },
    ];
    const out = paramsFormHtml(fields, esc);
    assert.doesNotMatch(out, /<script|<i>/);
    assert.match(out, /<small class="help" id="param-0-help">&#60;script&#62;alert\(1\)&#60;\/script&#62;<\/small>/);
    assert.match(out, /name="x&#34;y"/);
    assert.match(out, /data-error-for="x&#34;y"/);
    assert.match(out, /<option value="&#34;b&#34;" selected>&#34;b&#34;<\/option>/);
    assert.match(out, /value="&#34;&#62;&#60;script&#62;alert\(2\)&#60;\/script&#62;"/);
  });
});

describe('paramErrors', () => {
  const valid = { region: 'eu', ratio: 0.5, positive: 3, mode: 'full', day: '2026-11-30' };

  it('accepts what parseParams accepts, with its defaults', () => {
    const result = paramErrors(schema, valid);
    assert.deepEqual(result, parseParams(schema, valid));
    assert.deepEqual(result, { ok: true, params: { ...valid, batch: 100, dryRun: false, level: 'low', tags: ['daily'] } });
  });

  it('files each problem under its param: wrong type, out of range, bad enum value, unknown, missing', () => {
    const raw = { region: 7, ratio: 2, batch: 0, positive: 1.5, mode: 'weekly', day: '2026-13-01', regoin: 'eu', window: { days: 'x' } };
    const result = paramErrors(schema, raw);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error, (parseParams(schema, raw) as { error: string }).error);
    assert.deepEqual(result.fields, {
      regoin: 'unknown param (known: region, ratio, batch, positive, dryRun, mode, day, at, note, level, tags, window)',
      region: 'expected string, received number',
      ratio: 'Too big: expected number to be <=1',
      batch: 'Too small: expected number to be >=1',
      positive: 'expected int, received number',
      mode: 'Invalid option: expected one of "full"|"delta"',
      day: 'Invalid ISO date',
      window: 'days: expected number, received string',
    });
    const missing = paramErrors(schema, {});
    assert.equal(missing.ok, false);
    assert.deepEqual(!missing.ok && missing.fields, {
      region: 'required (expected string)',
      ratio: 'required (expected number)',
      positive: 'required (expected number)',
      mode: 'required (expected one of "full"|"delta")',
      day: 'required (expected string)',
    });
  });

  it('keeps problems with the params as a whole out of the fields', () => {
    assert.deepEqual(paramErrors(schema, ['eu']), { ok: false, error: 'params must be a JSON object, got an array', fields: {} });
  });
});
