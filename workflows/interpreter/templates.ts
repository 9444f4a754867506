import type { ContextKey } from '../spec';

/**
 * A task output too large for workflow history lives in S3; history holds only this marker.
 * `path` is a field path into the stored JSON still to be applied: the activity that receives
 * the marker loads the object and applies it (the workflow cannot read S3).
 */
export interface OffloadedRef {
  $offloaded: { key: string; bytes: number };
  path?: (string | number)[];
}

export function isOffloaded(value: unknown): value is OffloadedRef {
  return isRecord(value) && isRecord(value.$offloaded) && typeof value.$offloaded.key === 'string';
}

/** Follows a field path, deferring to the activity side once it reaches an offloaded value. */
export function getPath(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value;
  for (let i = 0; i < path.length; i++) {
    if (isOffloaded(current)) {
      return { $offloaded: current.$offloaded, path: [...(current.path ?? []), ...path.slice(i)] };
    }
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[path[i] as string | number];
  }
  return current;
}

export interface TemplateScope {
  output(taskId: string): unknown;
  context: Record<ContextKey, unknown>;
  /** The mapped list (or its offloaded marker) and the index, inside a mapped task. */
  item?: { list: unknown; index: number };
}

/**
 * Replaces the `$ref`, `$ctx`, `$item` and `$tpl` placeholders of a task's input template.
 * @throws when a tpl value is missing or not a scalar: the task cannot start with that input.
 */
export function resolveTemplate(template: unknown, scope: TemplateScope): unknown {
  if (Array.isArray(template)) return template.map((v) => resolveTemplate(v, scope));
  if (!isRecord(template)) return template;
  const keys = Object.keys(template);
  if (keys.length === 1 && isRecord(template.$tpl)) {
    const { strings, values } = template.$tpl as { strings: string[]; values: unknown[] };
    return strings.reduce((text, part, i) => (i === 0 ? part : `${text}${templateValue(values[i - 1], scope, i - 1)}${part}`), '');
  }
  if (keys.length === 1 && isRecord(template.$ref)) {
    const ref = template.$ref as { task: string; path: string[] };
    return getPath(scope.output(ref.task), ref.path);
  }
  if (typeof template.$ctx === 'string' && keys.every((k) => k === '$ctx' || k === 'path')) {
    const path = Array.isArray(template.path) ? (template.path as string[]) : [];
    return getPath(scope.context[template.$ctx as ContextKey], path);
  }
  if (keys.length === 1 && Array.isArray(template.$item)) {
    if (!scope.item) throw new Error('$item placeholder used outside a mapped task');
    return getPath(scope.item.list, [scope.item.index, ...(template.$item as string[])]);
  }
  const resolved: Record<string, unknown> = {};
  for (const key of keys) resolved[key] = resolveTemplate(template[key], scope);
  return resolved;
}

/** One value of a tpl string: scalars only, so a string never silently reads "[object Object]". */
function templateValue(placeholder: unknown, scope: TemplateScope, index: number): string {
  const value = resolveTemplate(placeholder, scope);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  const what = describePlaceholder(placeholder);
  if (value === null || value === undefined) throw new Error(`tpl value ${index + 1} (${what}) is ${String(value)} in this run`);
  throw new Error(`tpl value ${index + 1} (${what}) is ${isOffloaded(value) ? 'a large output stored in S3' : Array.isArray(value) ? 'a list' : 'an object'}; use a field of it`);
}

function describePlaceholder(placeholder: unknown): string {
  if (!isRecord(placeholder)) return JSON.stringify(placeholder);
  const path = (p: unknown) => (Array.isArray(p) && p.length > 0 ? `.${p.join('.')}` : '');
  if (isRecord(placeholder.$ref)) return `output of '${String(placeholder.$ref.task)}'${path(placeholder.$ref.path)}`;
  if (typeof placeholder.$ctx === 'string') return `ctx.${placeholder.$ctx}${path(placeholder.path)}`;
  if (Array.isArray(placeholder.$item)) return `the mapped item${path(placeholder.$item)}`;
  return 'a value';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
