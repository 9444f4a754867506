/**
 * What test/chaos/api-fuzz.test.ts sends: hostile values, the query parameters of each route and
 * the body fields of each write.
 *
 * Query parameter names come from the zod schemas the console parses them with (imported, their
 * keys read from the schema). Which route parses which schema lives inside the route handlers'
 * closures, which the router does not expose, so that pairing is a table here; a route missing
 * from it still gets its path parameters, an unknown parameter and every body variant. Body
 * schemas are private to their routers (not exported), so body fields are a table too.
 */
import { listQuery } from '../../../server/console/api/runs-api';
import { auditQuery, exceptionsQuery, lineageQuery, qualityQuery } from '../../../server/console/queries/data';
import { gridQuery } from '../../../server/console/queries/grid';
import { dailyQuery, reportsQuery, weeklyQuery } from '../../../server/console/queries/reports';

/** The keys of a zod (v4) object schema, through preprocess pipes, optionals and defaults. */
export function schemaKeys(schema: unknown): string[] {
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
  if (!def) return [];
  if (def.type === 'object') return Object.keys(def.shape as object);
  if (def.type === 'pipe') return [...new Set([...schemaKeys(def.in), ...schemaKeys(def.out)])];
  if (def.innerType) return schemaKeys(def.innerType);
  return [];
}

const QUERY_SCHEMAS: Record<string, unknown> = {
  '/api/runs': listQuery,
  '/runs': listQuery,
  '/api/dags/:dagId/grid': gridQuery,
  '/dags/:dagId/grid': gridQuery,
  '/api/data/quality': qualityQuery,
  '/api/data/quality/failed': qualityQuery,
  '/data/quality': qualityQuery,
  '/api/data/exceptions': exceptionsQuery,
  '/data/exceptions': exceptionsQuery,
  '/api/data/audit': auditQuery,
  '/data/audit': auditQuery,
  '/api/data/lineage': lineageQuery,
  '/data/lineage': lineageQuery,
  '/api/reports/daily': dailyQuery,
  '/api/reports/weekly': weeklyQuery,
  '/reports': reportsQuery,
  '/reports/:name.csv': reportsQuery,
};
/** Pages that read a parameter without a schema. */
const QUERY_NAMES: Record<string, string[]> = { '/backfills': ['dagId'], '/backfills/new': ['dagId'] };

/** The query parameters a route reads, plus one it does not know (`zz`). */
export function queryParams(path: string): string[] {
  const known = QUERY_SCHEMAS[path] ? schemaKeys(QUERY_SCHEMAS[path]) : (QUERY_NAMES[path] ?? []);
  return [...known, 'zz'];
}

/** Whether every route that parses a schema still has one here (a renamed route would drop out silently). */
export function queryTablePaths(): string[] {
  return [...Object.keys(QUERY_SCHEMAS), ...Object.keys(QUERY_NAMES)];
}

/** A valid body per write (`METHOD path`), whose fields the fuzz replaces one at a time. */
export function baseBody(method: string, path: string, ids: { scheduledDag: string; task: string }): Record<string, unknown> {
  const backfill = { dagId: ids.scheduledDag, from: '2025-01-01', to: '2025-01-02', dryRun: true, concurrency: 2, reprocess: 'none', reverse: false };
  const table: Record<string, Record<string, unknown>> = {
    'POST /api/dags/:dagId/trigger': { logicalDate: '2025-03-01', params: { region: 'North', label: 'x' } },
    'POST /dags/:dagId/trigger': { logicalDate: '2025-03-02', region: 'North', label: 'x' },
    'POST /api/runs/:runId/retry': { taskId: ids.task },
    'POST /api/runs/:runId/mark-success': { taskId: ids.task },
    'POST /api/runs/:runId/clear': { taskId: ids.task, downstream: false },
    'POST /api/runs/:runId/fail': { reason: 'fuzz' },
    'POST /api/schedules/:dagId/pause': { note: 'fuzz' },
    'POST /api/schedules/:dagId/unpause': { note: 'fuzz' },
    'POST /api/backfills': backfill,
    'POST /backfills/preview': backfill,
    'PUT /api/pools/:name': { slots: 3, description: 'fuzz' },
    'POST /api/pools': { name: 'fuzz_pool', slots: 3, description: 'fuzz' },
  };
  return table[`${method} ${path}`] ?? { zz: 'x' };
}

const KB100 = 'k'.repeat(100 * 1024);
const MB2 = 'm'.repeat(2 * 1024 * 1024);

/** Hostile text, for paths, queries and body fields. `short` marks the SHORT round's subset. */
export const HOSTILE_TEXT: Array<{ name: string; value: string; short?: boolean }> = [
  { name: 'sql-or', value: `' OR 1=1 --`, short: true },
  { name: 'sql-drop', value: `"; drop table x; --` },
  { name: 'traversal', value: '../../etc/passwd', short: true },
  { name: 'encoded-traversal', value: '%2e%2e%2f', short: true },
  { name: 'nul', value: 'a\0b', short: true },
  { name: '100KB', value: KB100, short: true },
  { name: '2MB', value: MB2 },
  { name: 'number-as-string', value: '42' },
  { name: 'negative', value: '-1', short: true },
  { name: 'huge-number', value: '1e308' },
  { name: 'beyond-safe-int', value: '9007199254740993' },
  { name: 'rtl', value: 'abc\u202Eevil\u202C' },
  { name: 'emoji', value: '😀🔥' },
  { name: 'lone-surrogate', value: 'x\uD800y', short: true },
  { name: 'script', value: '<script>alert(1)</script>', short: true },
  { name: 'proto', value: '__proto__', short: true },
  { name: 'constructor', value: 'constructor' },
  { name: 'empty', value: '' },
  { name: 'crlf', value: 'a\r\nSet-Cookie: x=1', short: true },
];

/** Hostile JSON values for body fields, beyond the texts above. */
export const HOSTILE_JSON: Array<{ name: string; value: unknown; short?: boolean }> = [
  { name: '1e308', value: 1e308, short: true },
  { name: '-1', value: -1 },
  { name: '2**53+1', value: 2 ** 53 + 1 },
  { name: 'fraction', value: 0.5 },
  { name: 'true', value: true },
  { name: 'null', value: null, short: true },
  { name: 'array', value: ['a', 1], short: true },
  { name: 'object', value: { a: { b: 1 } }, short: true },
  { name: 'deep', value: JSON.parse('['.repeat(500) + ']'.repeat(500)) as unknown },
];

/** Whole bodies, as raw text: not JSON, prototype keys, the wrong shape, too big. */
export const HOSTILE_BODIES: Array<{ name: string; body: string; short?: boolean }> = [
  { name: 'empty', body: '', short: true },
  { name: 'invalid-json', body: '{"a":', short: true },
  { name: 'not-json', body: 'hello', short: true },
  { name: 'array', body: '[1,2]' },
  { name: 'null', body: 'null' },
  { name: 'string', body: '"x"' },
  { name: 'number', body: '123' },
  { name: '__proto__', body: '{"__proto__":{"fuzzPolluted":true}}', short: true },
  { name: 'constructor', body: '{"constructor":{"prototype":{"fuzzPolluted":true}}}', short: true },
  { name: '100KB', body: JSON.stringify({ x: KB100 }), short: true },
  { name: '2MB', body: JSON.stringify({ x: MB2 }) },
  { name: 'deep', body: '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) },
];

/** Content types a write might arrive with (`undefined`: no header at all). */
export const CONTENT_TYPES: Array<{ name: string; type: string | undefined; short?: boolean }> = [
  { name: 'none', type: undefined, short: true },
  { name: 'text/plain', type: 'text/plain', short: true },
  { name: 'form', type: 'application/x-www-form-urlencoded', short: true },
  { name: 'multipart', type: 'multipart/form-data; boundary=xyz', short: true },
  { name: 'json-utf16', type: 'application/json; charset=utf-16' },
  { name: 'json-bogus-charset', type: 'application/json; charset=nope' },
  { name: 'jsonish', type: 'application/jsonx' },
];

/** A seeded PRNG (mulberry32), so a FULL round's random mix can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
