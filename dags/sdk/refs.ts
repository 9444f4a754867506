/**
 * References to values that exist only when a run executes: an upstream task's output, a run
 * context value, or the current element of a mapped list. At the type level a `Ref<T>` stands
 * for a `T`; at compile time it becomes a `$ref` / `$ctx` / `$item` placeholder in the spec.
 */
import type { ContextKey } from '../../workflows/spec';

declare const VALUE: unique symbol;
declare const SOURCE: unique symbol;
declare const HANDLE: unique symbol;

/** Where a reference's value comes from. */
export type RefSource = 'output' | 'context' | 'item';

/** Keys `field()` accepts: property names of objects, indexes of arrays. */
export type FieldKey<T> = NonNullable<T> extends readonly unknown[] ? number : Extract<keyof NonNullable<T>, string>;

/** The type at `T[K]`; reading through a null or undefined value yields undefined. */
export type FieldType<T, K> =
  | (NonNullable<T> extends readonly (infer E)[] ? E : K extends keyof NonNullable<T> ? NonNullable<T>[K] : never)
  | (T extends null | undefined ? undefined : never);

/**
 * A value of type `T` available at run time. Covariant: a `Ref<'eu'>` fits where a
 * `Ref<string>` is expected, never the other way round.
 */
export interface Ref<out T, out S extends RefSource = RefSource> {
  /** Type-level only. */
  readonly [VALUE]: () => T;
  /** Type-level only. */
  readonly [SOURCE]: S;
  /** A reference to one field (or array element) of this value. */
  field<K extends FieldKey<T>>(key: K): Ref<FieldType<T, K>, S>;
}

/** A reference to (part of) a task's output; only these can be mapped over. */
export type OutputRef<T> = Ref<T, 'output'>;

/** The id and ordering methods every task handle has. */
export interface HandleMethods {
  /** Type-level only. */
  readonly [HANDLE]: true;
  /** The task id, including any group prefix: what a branch returns to choose this task. */
  readonly id: string;
  /**
   * Adds order-only dependencies: this task runs after `upstream` (subject to its trigger rule)
   * without consuming their output. Chainable.
   */
  after(...upstream: Array<AnyTaskHandle | readonly AnyTaskHandle[]>): this;
}

/** What `task()`, `map()`, `sensor()` and `branch()` return: a reference to the output, plus an id. */
export type TaskHandle<T> = OutputRef<T> & HandleMethods;
/** Any task handle, whatever its output type. */
export type AnyTaskHandle = HandleMethods;

type Primitive = string | number | boolean | bigint | symbol | null | undefined;

/**
 * A task input as written in a DAG: `T` itself, where any value at any depth may instead be a
 * `Ref` of the matching type. `Ref<T>` is listed outside the distribution so that a
 * `Ref<string | undefined>` fits a `string | undefined` field; an `unknown` field takes anything.
 */
export type Wire<T> = unknown extends T ? unknown : Ref<T> | WireShape<T>;
type WireShape<T> = T extends Primitive
  ? T
  : T extends (...args: never[]) => unknown
    ? T
    : { [K in keyof T]: Wire<T[K]> };

/** The run-context references available in every DAG (and in callbacks). */
export interface RunContext {
  dagId: Ref<string, 'context'>;
  /** The workflow id: `<dagId>-<logical date>`. */
  runId: Ref<string, 'context'>;
  /** RFC 3339 UTC. */
  logicalDate: Ref<string, 'context'>;
  dataIntervalStart: Ref<string, 'context'>;
  dataIntervalEnd: Ref<string, 'context'>;
}

// ---------------------------------------------------------------------------------------------
// Runtime side

const REF = Symbol.for('sluice.ref');

/** The task a reference points into, as the builder tracks it. */
export interface RefOwner {
  readonly id: string;
  readonly session: object;
}

export type RefTarget =
  | { kind: 'output'; owner: RefOwner }
  | { kind: 'context'; key: ContextKey }
  | { kind: 'item'; owner: RefOwner };

/** The runtime object behind every `Ref`. */
export class RefNode {
  constructor(
    readonly target: RefTarget,
    readonly path: readonly string[] = [],
  ) {
    Object.defineProperty(this, REF, { value: true });
  }

  field(key: string | number): RefNode {
    return new RefNode(this.target, [...this.path, String(key)]);
  }

  toJSON(): never {
    throw new Error('a Ref is a placeholder for a run-time value; it has no value while the DAG is defined');
  }
}

export function isRefNode(value: unknown): value is RefNode {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[REF] === true;
}

/** A context reference, typed as the caller says. */
export function contextRef<T>(key: ContextKey, path: readonly string[] = []): Ref<T, 'context'> {
  return new RefNode({ kind: 'context', key }, path) as unknown as Ref<T, 'context'>;
}

/**
 * Run-context references usable anywhere, including callback inputs outside the builder.
 * Inside a DAG the builder's `ctx` is the same thing.
 */
export const runContext: RunContext = Object.freeze({
  dagId: contextRef<string>('dagId'),
  runId: contextRef<string>('runId'),
  logicalDate: contextRef<string>('logicalDate'),
  dataIntervalStart: contextRef<string>('dataIntervalStart'),
  dataIntervalEnd: contextRef<string>('dataIntervalEnd'),
});

/** The spec placeholder for a reference. */
export function placeholder(ref: RefNode): unknown {
  const path = [...ref.path];
  switch (ref.target.kind) {
    case 'output':
      return { $ref: { task: ref.target.owner.id, path } };
    case 'context':
      return path.length > 0 ? { $ctx: ref.target.key, path } : { $ctx: ref.target.key };
    case 'item':
      return { $item: path };
  }
}

/**
 * Turns a wired input into a JSON template. `onRef` decides what each reference becomes (and
 * records dependencies); values JSON cannot carry are reported through `onInvalid` with their
 * path in the input.
 */
export function toTemplate(
  value: unknown,
  onRef: (ref: RefNode, at: string) => unknown,
  onInvalid: (at: string, problem: string) => void,
): unknown {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): unknown => {
    if (isRefNode(v)) return onRef(v, at);
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) onInvalid(at, `${v} is not representable in JSON`);
      return v;
    }
    if (v === undefined) return undefined;
    if (typeof v !== 'object') {
      onInvalid(at, `a ${typeof v} is not JSON; task inputs must be plain data or Refs`);
      return null;
    }
    if (seen.has(v)) {
      onInvalid(at, 'the value refers to itself');
      return null;
    }
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((item, i) => walk(item, `${at}[${i}]`) ?? null);
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        const name = (v as object).constructor?.name ?? 'object';
        onInvalid(at, `a ${name} is not plain JSON data${name === 'Date' ? ' (pass an ISO string)' : ''}`);
        return null;
      }
      const out: Record<string, unknown> = {};
      for (const [key, member] of Object.entries(v)) {
        const converted = walk(member, at ? `${at}.${key}` : key);
        if (converted !== undefined) out[key] = converted;
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, '');
}
