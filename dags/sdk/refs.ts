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
  /** The task id, including any group prefix. */
  readonly id: string;
  /**
   * Adds order-only dependencies: this task runs after `upstream` (subject to its trigger rule)
   * without consuming their output. A branch arm (`choice.when('eu')`) makes this task part of
   * that arm: it runs only when the branch chooses the label. Chainable.
   */
  after(...upstream: Array<Upstream | readonly Upstream[]>): this;
}

declare const ARM: unique symbol;
/** One or more arms of a branch, made by `choice.when(...)`; pass it to `.after()`. */
export interface BranchArm {
  /** Type-level only. */
  readonly [ARM]: true;
}

/** What `.after()` takes: task handles and branch arms. */
export type Upstream = AnyTaskHandle | BranchArm;

/** What `task()`, `map()` and `sensor()` return: a reference to the output, plus an id. */
export type TaskHandle<T> = OutputRef<T> & HandleMethods;
/** Any task handle, whatever its output type. */
export type AnyTaskHandle = HandleMethods;

/** What `branch()` returns: a task handle whose arms are selected by label. */
export type BranchHandle<L extends string> = TaskHandle<L | L[]> & {
  /** The arm (or arms) for these labels: `task(loadEu, ...).after(choice.when('eu'))`. */
  when(...labels: [L, ...L[]]): BranchArm;
};

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

/**
 * The run-context references available in every DAG (and in callbacks). A run's logical date is
 * its fire time; its data interval is (previous fire time, logical date]. Dates are UTC.
 */
export interface RunContext {
  dagId: Ref<string, 'context'>;
  /** The workflow id: `<dagId>-<logical date>`. */
  runId: Ref<string, 'context'>;
  /** The run's fire time, RFC 3339 UTC, e.g. 2026-11-21T06:00:00.000Z. */
  logicalDate: Ref<string, 'context'>;
  /** The previous fire time (the logical date itself for a DAG without a schedule). */
  dataIntervalStart: Ref<string, 'context'>;
  /** The logical date. */
  dataIntervalEnd: Ref<string, 'context'>;
  /** The logical date's day, `2026-11-21` (Airflow's `ds`). */
  ds: Ref<string, 'context'>;
  /** `20261121`. */
  dsNodash: Ref<string, 'context'>;
  /** `2026-11-21T06:00:00+00:00` (Airflow's `ts`). */
  ts: Ref<string, 'context'>;
  /** `20261121T060000`. */
  tsNodash: Ref<string, 'context'>;
  /** The previous fire time's day; null when the DAG has no schedule. */
  prevDs: Ref<string | null, 'context'>;
  /** The next fire time's day; null when the DAG has no schedule. */
  nextDs: Ref<string | null, 'context'>;
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
  | { kind: 'item'; owner: RefOwner }
  | { kind: 'template'; strings: readonly string[]; values: readonly unknown[] };

/**
 * What a Ref turns into when code coerces it to a string (`${ref}` in a template literal). It
 * has no value yet, so the DAG would silently carry "[object Object]"; instead the marker,
 * naming the Ref, lets the builder report the task and field (see `findStringifiedRefs`).
 */
const STRINGIFIED = /\uE000([^\uE001]*)\uE001/g;

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

  [Symbol.toPrimitive](): string {
    return `\uE000${this.describe()}\uE001`;
  }

  /** How messages name this reference: `ctx.ds`, `output of 'extract'.key`, `the mapped item`. */
  describe(): string {
    const path = this.path.map((p) => `.${p}`).join('');
    switch (this.target.kind) {
      case 'output':
        return `the output of '${this.target.owner.id}'${path}`;
      case 'context':
        return `ctx.${this.target.key}${path}`;
      case 'item':
        return `the mapped item${path}`;
      case 'template':
        return 'a tpl string';
    }
  }
}

/** The Refs that were coerced into `text` (empty when none). */
export function findStringifiedRefs(text: string): string[] {
  return [...text.matchAll(STRINGIFIED)].map((m) => m[1] ?? '');
}

/** A value tpl`...` can put into a string; null fails the task at run time, naming the value. */
export type TemplateValue = string | number | boolean | null;

/**
 * Builds a string from run-time values, resolved when the task starts:
 * ``tpl`landing/partner_sales/dt=${ctx.ds}/` ``. Values may be Refs (run context, params, task
 * outputs, the mapped item; an output Ref adds the edge) or literals. Plain `${ref}` in an
 * ordinary template literal cannot work (the value does not exist while the DAG is defined), and
 * the DAG fails validation naming the task; this is the way to do it.
 */
export function tpl(strings: TemplateStringsArray, ...values: Array<Ref<TemplateValue> | TemplateValue>): Ref<string> {
  return new RefNode({ kind: 'template', strings: [...strings], values }) as unknown as Ref<string>;
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
  ds: contextRef<string>('ds'),
  dsNodash: contextRef<string>('dsNodash'),
  ts: contextRef<string>('ts'),
  tsNodash: contextRef<string>('tsNodash'),
  prevDs: contextRef<string | null>('prevDs'),
  nextDs: contextRef<string | null>('nextDs'),
});

/**
 * The spec placeholder for a reference. A template's values are converted with `convert`, which
 * the caller uses to record the dependencies of the Refs inside it.
 */
export function placeholder(ref: RefNode, convert: (value: unknown, index: number) => unknown = (v) => v): unknown {
  const path = [...ref.path];
  switch (ref.target.kind) {
    case 'output':
      return { $ref: { task: ref.target.owner.id, path } };
    case 'context':
      return path.length > 0 ? { $ctx: ref.target.key, path } : { $ctx: ref.target.key };
    case 'item':
      return { $item: path };
    case 'template':
      return { $tpl: { strings: [...ref.target.strings], values: ref.target.values.map(convert) } };
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
    if (typeof v === 'string') {
      for (const ref of findStringifiedRefs(v)) {
        onInvalid(at, `${ref} was put inside a string with \${...}, where it can only become "[object Object]" (it has no value until the run); build the string with tpl\`...\` instead`);
      }
      return v;
    }
    if (v === null || typeof v === 'boolean') return v;
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
