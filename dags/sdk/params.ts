/** DAG params: checking the schema when the DAG compiles, and the values when a run is triggered. */
import { z } from 'zod';
import type { DagDefinition, ParamsSchema } from './dag';

type Internals = { _zod?: { def?: { type?: string; catchall?: unknown; innerType?: unknown; defaultValue?: unknown; shape?: Record<string, unknown> } } };
const zdef = (schema: unknown) => (schema as Internals | null | undefined)?._zod?.def;

/** True for a zod object schema (checked structurally, so a second copy of zod still counts). */
export function isZodObject(value: unknown): value is ParamsSchema {
  return zdef(value)?.type === 'object';
}

/**
 * Problems with a params schema: not a zod object, or a default that its own field rejects
 * (zod 4 applies `.default()` values without parsing them). Fields without a default are fine:
 * a trigger must then supply them.
 */
export function checkParamsSchema(schema: unknown): string[] {
  if (!isZodObject(schema)) return [`params must be a zod object schema (z.object({...})), got ${describeSchema(schema)}`];
  const problems: string[] = [];
  const walk = (s: unknown, path: string[]): void => {
    const def = zdef(s);
    if (def?.type === 'default' || def?.type === 'prefault') {
      const result = (def.innerType as z.ZodType).safeParse(def.defaultValue);
      if (!result.success) problems.push(`param '${path.join('.')}': default ${JSON.stringify(def.defaultValue)} is invalid: ${issueText(result.error.issues[0])}`);
      walk(def.innerType, path);
    } else if (def?.type === 'optional' || def?.type === 'nullable') {
      walk(def.innerType, path);
    } else if (def?.type === 'object') {
      for (const [key, field] of Object.entries(def.shape ?? {})) walk(field, [...path, key]);
    }
  };
  walk(schema, []);
  if (problems.length > 0) return problems;
  try {
    const result = schema.safeParse({});
    const other = result.success ? [] : result.error.issues.filter((i) => !isMissing(i));
    problems.push(...other.map((i) => formatIssue(i)));
  } catch (error) {
    problems.push(`params schema throws on parse: ${(error as Error).message}`);
  }
  return problems;
}

/** JSON Schema of the params (input side: fields with defaults are optional), for display. */
export function paramsJsonSchema(schema: ParamsSchema): unknown {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return undefined;
  }
}

/** The result of {@link validateParams}. */
export type ParamsResult<P> = { ok: true; params: P } | { ok: false; error: string };

/**
 * Validates trigger params against the DAG's schema, applying defaults. Unknown keys are an
 * error (a typo would otherwise silently run with the default) unless the schema is a
 * `z.looseObject`. `undefined` or `null` counts as `{}`.
 * @example validateParams(dailyOrders, { region: 1 }) // { ok: false, error: "param 'region': expected string, received number" }
 */
export function validateParams<S extends ParamsSchema>(definition: DagDefinition<S>, raw: unknown): ParamsResult<z.output<S>> {
  const schema = definition.options.params ?? z.object({});
  const input = raw ?? {};
  if (!isZodObject(schema)) return { ok: false, error: checkParamsSchema(schema).join('; ') };
  if (typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, error: `params must be a JSON object, got ${Array.isArray(input) ? 'an array' : typeof input}` };
  }
  const known = Object.keys(zdef(schema)?.shape ?? {});
  const unknown = zdef(schema)?.catchall === undefined ? Object.keys(input).filter((k) => !known.includes(k)) : [];
  const result = schema.safeParse(input);
  const errors = [
    ...unknown.map((k) => `param '${k}': unknown param (${known.length > 0 ? `known: ${known.join(', ')}` : 'this DAG declares none'})`),
    ...(result.success ? [] : result.error.issues.map((i) => formatIssue(i))),
  ];
  if (errors.length > 0 || !result.success) return { ok: false, error: errors.join('; ') };
  return { ok: true, params: result.data as z.output<S> };
}

function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_type' && / received undefined$/.test(issue.message);
}

function issueText(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid';
  if (isMissing(issue)) return `required (expected ${(issue as { expected?: string }).expected ?? 'a value'})`;
  return issue.message.replace(/^Invalid input: /, '');
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  return `${path ? `param '${path}'` : 'params'}: ${issueText(issue)}`;
}

function describeSchema(value: unknown): string {
  const type = zdef(value)?.type;
  return type ? `a zod ${type} schema` : value === null ? 'null' : typeof value;
}
