/**
 * The build session behind a DAG function: records task nodes, their wired inputs and edges,
 * and every problem found on the way; `compileDag` turns the session into a DagSpec.
 */
import type { SensorSpec, TaskKind } from '../../workflows/spec';
import type { DagBuilder, DagOptions, MapSpec } from './dag';
import type { Duration } from './durations';
import { DagBuildError, type DagErrorCode } from './errors';
import {
  DEFAULTS,
  SENSOR_OPTION_KEYS,
  TASK_OPTION_KEYS,
  checkKeys,
  durationMs,
  resolveTask,
  type ResolvedTask,
  type SensorOptions,
  type TaskOptions,
} from './options';
import {
  RefNode,
  contextRef,
  isRefNode,
  placeholder,
  runContext,
  toTemplate,
  type BranchHandle,
  type Ref,
  type RefOwner,
  type TaskHandle,
  type Upstream,
} from './refs';
import { isTaskDef, type AnyTaskDef, type DefKind } from './task-def';

/** A problem found while building, attributed to a task where there is one. */
export interface Problem {
  code: DagErrorCode;
  detail: string;
  task?: string;
}

/** One task as recorded by the builder; `compileDag` turns it into a TaskSpec. */
export interface TaskNode extends RefOwner {
  readonly id: string;
  readonly session: BuildSession;
  readonly def: AnyTaskDef;
  readonly kind: TaskKind;
  readonly group?: string;
  input: unknown;
  readonly upstream: Set<string>;
  settings: ResolvedTask;
  sensor?: SensorSpec;
  map?: { over: { task: string; path: string[] } };
  /** Branch arms this task joined with `.after(choice.when(...))`: branch id → labels. */
  when: Map<string, Set<string>>;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** The state of one run of a DAG function. */
export class BuildSession {
  readonly nodes: TaskNode[] = [];
  readonly problems: Problem[] = [];
  private readonly groups: string[] = [];
  open = true;

  constructor(
    readonly dagId: string,
    readonly dagOptions: DagOptions,
  ) {}

  report(code: DagErrorCode, detail: string, task?: string): void {
    this.problems.push({ code, detail, ...(task !== undefined ? { task } : {}) });
  }

  assertOpen(what: string): void {
    if (!this.open) {
      throw new DagBuildError(
        'dangling_reference',
        `${what} belongs to DAG '${this.dagId}', whose definition has already been built; use handles only inside their own DAG function`,
      );
    }
  }

  inGroup<R>(name: string, fn: () => R): R {
    this.assertOpen(`group '${name}'`);
    if (typeof name !== 'string' || !SEGMENT.test(name)) {
      this.report('invalid_task_id', `group name ${JSON.stringify(name)} must use letters, digits, '_' and '-'`);
    }
    this.groups.push(name);
    try {
      return fn();
    } finally {
      this.groups.pop();
    }
  }

  /** Adds a node; `prepare` fills in its input (and map source) once the id is known. */
  add(
    call: 'task' | 'map' | 'sensor' | 'branch',
    def: unknown,
    options: TaskOptions | SensorOptions | undefined,
    prepare: (node: TaskNode) => unknown,
  ): TaskNode {
    this.assertOpen(`${call}()`);
    if (!isTaskDef(def)) {
      throw new DagBuildError('unknown_activity', `${call}() expects a definition made by defineTask/defineSensor/defineBranch, got ${describe(def)}`);
    }
    const localId = options?.id ?? def.name;
    const group = this.groups.length > 0 ? this.groups.join('.') : undefined;
    const id = group ? `${group}.${localId}` : localId;
    const report = (detail: string, code: DagErrorCode = 'invalid_option'): void => this.report(code, detail, id);

    if (options?.id !== undefined && (typeof options.id !== 'string' || !SEGMENT.test(options.id))) {
      report(`id ${JSON.stringify(options.id)} must use letters, digits, '_' and '-' (use group() for a prefix)`, 'invalid_task_id');
    }
    const expected: DefKind = call === 'map' ? 'task' : call;
    if (def.kind !== expected) {
      report(`'${def.name}' is defined as a ${def.kind}; use ${def.kind}(...) for it, not ${call}(...)`, 'wrong_task_kind');
    }
    checkKeys(options, call === 'sensor' ? SENSOR_OPTION_KEYS : TASK_OPTION_KEYS, `${call} option`, (d) => report(d));

    const { onFailure: _f, onSuccess: _s, params: _p, ...dagDefaults } = this.dagOptions;
    const node: TaskNode = {
      id,
      session: this,
      def,
      kind: call,
      ...(group ? { group } : {}),
      input: null,
      upstream: new Set(),
      when: new Map(),
      // The DAG's queue is recorded once on the spec, so it is not a task-level default.
      settings: resolveTask([options, def.defaults, { ...dagDefaults, taskQueue: undefined }], (d) => report(d, 'invalid_duration')),
    };
    if (call === 'sensor') {
      const s = (options ?? {}) as SensorOptions;
      const dur = (v: Duration | undefined, name: string, fallback: number): number =>
        durationMs(v, name, fallback, (d) => report(d, 'invalid_duration'));
      node.sensor = {
        pokeIntervalMs: dur(s.pokeInterval, 'pokeInterval', DEFAULTS.pokeInterval),
        timeoutMs: dur(s.timeout, 'timeout', DEFAULTS.sensorTimeout),
        softFail: s.softFail ?? false,
      };
    }
    const raw = prepare(node);
    node.input = this.template(node, raw) ?? null;
    this.nodes.push(node);
    return node;
  }

  /** Converts a node's wired input, recording its data dependencies. */
  private template(node: TaskNode, raw: unknown): unknown {
    const invalid = (at: string, problem: string) => this.report('invalid_input', `${at ? `input.${at}` : 'input'}: ${problem}`, node.id);
    const convert = (ref: RefNode, at: string): unknown => {
      const where = at ? `input.${at}` : 'input';
      if (ref.target.kind === 'item' && ref.target.owner !== node) {
        this.report('invalid_input', `${where} uses the item of map '${ref.target.owner.id}' outside that map's input function`, node.id);
        return null;
      }
      if (ref.target.kind === 'output') {
        if (!this.owns(ref.target.owner, node.id, where)) return null;
        node.upstream.add(ref.target.owner.id);
      }
      if (ref.target.kind === 'template' && ref.path.length > 0) {
        invalid(at, 'a tpl string has no fields');
        return null;
      }
      // A template's values are Refs (converted the same way) or literals.
      return placeholder(ref, (value, i) => {
        const part = `${at ? `${at}.` : ''}tpl[${i}]`;
        if (isRefNode(value)) return convert(value, part);
        if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return toTemplate(value, convert, (_, problem) => invalid(part, problem));
        invalid(part, `a tpl value must be a Ref or a string, number, boolean or null, got ${describe(value)}`);
        return null;
      });
    };
    return toTemplate(raw, convert, invalid);
  }

  /** True when a referenced task belongs to this DAG; reports a dangling reference otherwise. */
  owns(owner: RefOwner, taskId: string, where: string): boolean {
    if (owner.session === this) return true;
    this.report(
      'dangling_reference',
      `${where} refers to task '${owner.id}', which is not part of this DAG (a handle from another DAG or an earlier build?)`,
      taskId,
    );
    return false;
  }
}

class Handle extends RefNode {
  constructor(readonly node: TaskNode) {
    super({ kind: 'output', owner: node });
  }

  get id(): string {
    return this.node.id;
  }

  after(...upstream: Array<Upstream | readonly Upstream[]>): this {
    const session = this.node.session;
    session.assertOpen(`task '${this.node.id}'`);
    for (const h of upstream.flat()) {
      const target = h instanceof Arm ? h.branch : h;
      if (!(target instanceof Handle)) {
        session.report('invalid_input', `.after() expects task handles or branch arms, got ${describe(h)}`, this.node.id);
      } else if (session.owns(target.node, this.node.id, '.after()')) {
        this.node.upstream.add(target.node.id);
        if (h instanceof Arm) {
          const labels = this.node.when.get(target.node.id) ?? new Set<string>();
          for (const label of h.labels) labels.add(label);
          this.node.when.set(target.node.id, labels);
        }
      }
    }
    return this;
  }

  /** For branch handles: the arm of these labels. */
  when(...labels: string[]): Arm {
    const session = this.node.session;
    if (this.node.kind !== 'branch') {
      session.report('invalid_input', `.when() belongs to branches; '${this.node.id}' is a ${this.node.kind}`, this.node.id);
    }
    if (labels.length === 0 || !labels.every((l) => typeof l === 'string' && l !== '')) {
      session.report('invalid_input', `.when() takes one or more labels (non-empty strings), got ${JSON.stringify(labels)}`, this.node.id);
    }
    return new Arm(this, labels);
  }
}

/** The runtime object behind a BranchArm. */
class Arm {
  constructor(
    readonly branch: Handle,
    readonly labels: readonly string[],
  ) {}
}

/** The builder for one session; every member is a closure, so destructuring is safe. */
export function makeBuilder<P>(session: BuildSession): DagBuilder<P> {
  const handle = <O>(node: TaskNode): TaskHandle<O> => new Handle(node) as unknown as TaskHandle<O>;
  const simple =
    (call: 'task' | 'sensor') =>
    (def: unknown, input?: unknown, options?: TaskOptions) =>
      handle<never>(session.add(call, def, options, () => input));

  return {
    task: simple('task'),
    sensor: simple('sensor'),
    branch: (def: unknown, input?: unknown, options?: TaskOptions) =>
      new Handle(session.add('branch', def, options, () => input)) as unknown as BranchHandle<never>,
    map: (def: unknown, spec: MapSpec<unknown, unknown>, options?: TaskOptions) =>
      handle<never>(
        session.add('map', def, options, (node) => {
          const over = spec?.over as unknown;
          if (!isRefNode(over) || over.target.kind !== 'output') {
            session.report('invalid_map', `map 'over' must be a task output (a handle or handle.field(...)), got ${describe(over)}`, node.id);
          } else if (session.owns(over.target.owner, node.id, "map 'over'")) {
            node.upstream.add(over.target.owner.id);
            node.map = { over: { task: over.target.owner.id, path: [...over.path] } };
          }
          if (typeof spec?.input !== 'function') {
            session.report('invalid_map', "map 'input' must be a function of the item", node.id);
            return null;
          }
          return spec.input(new RefNode({ kind: 'item', owner: node }) as unknown as Ref<unknown, 'item'>);
        }),
      ),
    group: (name, fn) => session.inGroup(name, fn),
    ctx: runContext,
    params: contextRef<P>('params'),
  } as DagBuilder<P>;
}

function describe(value: unknown): string {
  if (isRefNode(value)) return `a ${value.target.kind} reference`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value;
}
