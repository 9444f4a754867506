/**
 * Who writes and who waits for which asset, from the DAG specs alone: the CLI's `dags show`, the
 * console's DAG pages and the asset trigger all read the same edges.
 */
import type { DagSpec } from '../../workflows/spec';

/** A task that writes an asset. */
export interface AssetProducer {
  dagId: string;
  taskId: string;
}

export interface DagAssets {
  /** The DAG's tasks that write assets: task id → assets, in task order. */
  outlets: Array<{ taskId: string; assets: string[] }>;
  /** For a DAG scheduled on assets: each asset with the tasks (of other DAGs) that write it. */
  scheduledOn: Array<{ asset: string; producers: AssetProducer[] }>;
  /** DAGs scheduled on assets this DAG writes. */
  consumers: Array<{ dagId: string; assets: string[] }>;
}

/** Every task of `specs` that lists `asset` in its outlets. */
export function producersOf(specs: readonly DagSpec[], asset: string): AssetProducer[] {
  return specs.flatMap((s) => s.tasks.filter((t) => t.outlets?.includes(asset)).map((t) => ({ dagId: s.dagId, taskId: t.id })));
}

/** The DAGs scheduled on at least one of `assets`. */
export function consumersOf(specs: readonly DagSpec[], assets: Iterable<string>): DagSpec[] {
  const wanted = new Set(assets);
  return specs.filter((s) => s.assetSchedule?.some((a) => wanted.has(a)));
}

/** The asset edges around one DAG, as `dags show` and the console show them. */
export function dagAssets(specs: readonly DagSpec[], spec: DagSpec): DagAssets {
  const outlets = spec.tasks.filter((t) => (t.outlets?.length ?? 0) > 0).map((t) => ({ taskId: t.id, assets: [...(t.outlets ?? [])] }));
  const written = new Set(outlets.flatMap((o) => o.assets));
  return {
    outlets,
    scheduledOn: (spec.assetSchedule ?? []).map((asset) => ({ asset, producers: producersOf(specs, asset) })),
    consumers: consumersOf(specs, written).map((c) => ({ dagId: c.dagId, assets: (c.assetSchedule ?? []).filter((a) => written.has(a)) })),
  };
}

/** `assets: a, b`: an asset schedule in one line, where a cron would be shown. */
export function describeAssetSchedule(assets: readonly string[]): string {
  return `assets: ${assets.join(', ')}`;
}
