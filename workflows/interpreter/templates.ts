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

/** Replaces the `$ref`, `$ctx` and `$item` placeholders of a task's input template. */
export function resolveTemplate(template: unknown, scope: TemplateScope): unknown {
  if (Array.isArray(template)) return template.map((v) => resolveTemplate(v, scope));
  if (!isRecord(template)) return template;
  const keys = Object.keys(template);
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
