/**
 * DAG params. A DAG declares them as a zod object; compiling records its JSON Schema in the spec,
 * and every run parses its params against that recorded schema (`parseParams`) when it starts,
 * whoever started it: the CLI, a backfill, a Temporal Schedule, the console or the Temporal UI.
 * So defaults apply to every kind of run, and a run's params are checked by the schema of the
 * version it runs. Clients call the same function first, to reject bad input before starting.
 *
 * The price of one parser: params must be plain JSON data that JSON Schema describes fully (no
 * transforms, coercion, refinements, dates), which `checkParamsSchema` enforces at compile time.
 */
import { z } from 'zod';
import type { DagDefinition, ParamsSchema } from './dag';

type ZodDef = {
  type?: string;
  catchall?: unknown;
  innerType?: unknown;
  defaultValue?: unknown;
  shape?: Record<string, unknown>;
  element?: unknown;
  options?: unknown[];
  valueType?: unknown;
  coerce?: boolean;
  checks?: Array<{ _zod?: { def?: { check?: string } } }>;
};
const zdef = (schema: unknown): ZodDef | undefined => (schema as { _zod?: { def?: ZodDef } } | null | undefined)?._zod?.def;

/** True for a zod object schema (checked structurally, so a second copy of zod still counts). */
export function isZodObject(value: unknown): value is ParamsSchema {
  return zdef(value)?.type === 'object';
}

/**
 * Problems with a params schema: not a zod object; a part JSON Schema cannot carry (transform,
 * pipe, coercion, refine, Date, ...); or a default that its own field rejects (zod 4 applies
 * `.default()` values without parsing them). Fields without a default are fine: a trigger must
 * then supply them (and `dags validate` flags them on scheduled DAGs).
 */
export function checkParamsSchema(schema: unknown): string[] {
  if (!isZodObject(schema)) return [`params must be a zod object schema (z.object({...})), got ${describeSchema(schema)}`];
  const problems: string[] = [];
  const walk = (s: unknown, path: string[]): void => {
    const def = zdef(s);
    const where = path.length > 0 ? `param '${path.join('.')}'` : 'params';
    if (def?.type === 'pipe' || def?.type === 'transform') {
      problems.push(`${where}: transforms and pipes are not supported; params are plain JSON, checked against their JSON Schema when a run starts`);
      return;
    }
    if (def?.coerce) problems.push(`${where}: z.coerce is not supported; params are plain JSON (pass a number as a number)`);
    if (def?.checks?.some((c) => c._zod?.def?.check === 'custom')) {
      problems.push(`${where}: .refine() checks are not supported; params are checked against their JSON Schema when a run starts`);
    }
    if (def?.type === 'default' || def?.type === 'prefault') {
      const result = (def.innerType as z.ZodType).safeParse(def.defaultValue);
      if (!result.success) problems.push(`${where}: default ${JSON.stringify(def.defaultValue)} is invalid: ${issueText(result.error.issues[0])}`);
    }
    if (def?.type === 'object') for (const [key, field] of Object.entries(def.shape ?? {})) walk(field, [...path, key]);
    else if (def?.type === 'array') walk(def.element, path);
    else if (def?.type === 'record') walk(def.valueType, path);
    else if (def?.type === 'union') for (const option of def.options ?? []) walk(option, path);
    else if (def?.innerType !== undefined) walk(def.innerType, path);
  };
  walk(schema, []);
  if (problems.length > 0) return problems;
  try {
    z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' });
  } catch (error) {
    return [`params cannot be described as JSON Schema: ${(error as Error).message}`];
  }
  return problems;
}

/** The params' JSON Schema (input side: fields with defaults are optional), recorded in the spec. */
export function paramsJsonSchema(schema: ParamsSchema): unknown {
  return z.toJSONSchema(schema, { io: 'input' });
}

/** The result of {@link parseParams} / {@link validateParams}. */
export type ParamsResult<P> = { ok: true; params: P } | { ok: false; error: string };

const parsers = new Map<string, z.ZodType>();

/**
 * The most JSON a run's params may take. Params travel in the run's start and in every task's
 * context, so a run's workflow task schedules them once per task: at 1.5 MB, 12 parallel tasks
 * overflowed Temporal's 4 MB gRPC message and the server terminated the half-started run (and a
 * backfill with it). 64 KB is also the console's request body limit. Large inputs belong in S3
 * or a table, passed by key.
 */
export const MAX_PARAMS_BYTES = 64 * 1024;

/**
 * Parses run params against a spec's params JSON Schema (absent: the DAG takes none), applying
 * defaults. Unknown keys are an error (a typo would otherwise silently run with the default)
 * unless the schema allows extra properties (`z.looseObject`). `undefined` or `null` counts as
 * `{}`. Deterministic and free of I/O.
 */
export function parseParams(jsonSchema: unknown, raw: unknown): ParamsResult<Record<string, unknown>> {
  const result = paramIssues(jsonSchema, raw);
  return result.ok ? result : { ok: false, error: result.error };
}

/** One problem with run params: `path` names the param (and the field within it); empty for the params as a whole. */
export interface ParamIssue {
  path: string[];
  message: string;
}

/**
 * {@link parseParams}, with each problem on its own as well, so a form can show it beside its
 * field. Accepts and rejects exactly what `parseParams` does; `error` is the same text.
 * @example paramIssues(schema, { regoin: 'us' }) // { ok: false, error: "param 'regoin': unknown param (known: region)", issues: [{ path: ['regoin'], message: 'unknown param (known: region)' }] }
 */
export function paramIssues(
  jsonSchema: unknown,
  raw: unknown,
): { ok: true; params: Record<string, unknown> } | { ok: false; error: string; issues: ParamIssue[] } {
  const input = raw ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    const error = `params must be a JSON object, got ${Array.isArray(input) ? 'an array' : typeof input}`;
    return { ok: false, error, issues: [{ path: [], message: error }] };
  }
  const bytes = new TextEncoder().encode(JSON.stringify(input)).length;
  if (bytes > MAX_PARAMS_BYTES) {
    const error = `params are ${(bytes / 1024).toFixed(0)} KB of JSON, over the limit of ${MAX_PARAMS_BYTES / 1024} KB (they travel with every task); pass large data by reference, e.g. an S3 key`;
    return { ok: false, error, issues: [{ path: [], message: error }] };
  }
  const schema = (jsonSchema ?? { type: 'object', properties: {} }) as {
    properties?: Record<string, unknown>;
    additionalProperties?: unknown;
  };
  const known = Object.keys(schema.properties ?? {});
  const closed = schema.additionalProperties === undefined || schema.additionalProperties === false;
  const unknown = closed ? Object.keys(input).filter((k) => !known.includes(k)) : [];
  const key = JSON.stringify(schema);
  let parser = parsers.get(key);
  if (!parser) parsers.set(key, (parser = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0])));
  const result = parser.safeParse(input);
  const issues: ParamIssue[] = [
    ...unknown.map((k) => ({ path: [k], message: `unknown param (${known.length > 0 ? `known: ${known.join(', ')}` : 'this DAG declares none'})` })),
    // Unknown keys are reported above, listing the known ones; zod's own report would repeat them.
    ...(result.success ? [] : result.error.issues.filter((i) => i.code !== 'unrecognized_keys').map((i) => ({ path: i.path.map(String), message: issueText(i) }))),
  ];
  if (issues.length > 0 || !result.success) return { ok: false, error: issues.map(formatIssue).join('; '), issues };
  const params = result.data as Record<string, unknown>;
  if (closed) for (const k of Object.keys(params)) if (!known.includes(k)) delete params[k];
  return { ok: true, params };
}

/**
 * Validates trigger params against a DAG's schema, as the run itself will (see parseParams).
 * @example validateParams(dailyOrders, { region: 1 }) // { ok: false, error: "param 'region': expected string, received number" }
 */
export function validateParams<S extends ParamsSchema>(definition: DagDefinition<S>, raw: unknown): ParamsResult<z.output<S>> {
  const schema = definition.options.params;
  if (schema !== undefined) {
    const problems = checkParamsSchema(schema);
    if (problems.length > 0) return { ok: false, error: problems.join('; ') };
  }
  return parseParams(schema === undefined ? undefined : paramsJsonSchema(schema), raw) as ParamsResult<z.output<S>>;
}

/** A spec's params must parse from `{}` when a schedule starts its runs without any. */
export function requiredParams(jsonSchema: unknown): string[] {
  const required = (jsonSchema as { required?: unknown } | undefined)?.required;
  return Array.isArray(required) ? required.filter((r): r is string => typeof r === 'string') : [];
}

function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && / received undefined$/.test(issue.message);
}

function issueText(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  if (isMissing(issue)) return `required (expected ${(issue as { expected?: string }).expected ?? 'a value'})`;
  return issue.message.replace(/^Invalid input: /, '');
}

function formatIssue(issue: ParamIssue): string {
  return `${issue.path.length > 0 ? `param '${issue.path.join('.')}'` : 'params'}: ${issue.message}`;
}

function describeSchema(value: unknown): string {
  const type = zdef(value)?.type;
  return type ? `a zod ${type} schema` : value === null ? 'null' : typeof value;
}
