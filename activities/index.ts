/**
 * The activity catalog: every task definition a worker registers. A DAG may only use tasks
 * listed here; `sluice dags validate` reports any other as an unknown activity.
 */
import { probeWarehouse, readProbe, writeProbe } from './stack-check';

export const taskCatalog = [probeWarehouse, writeProbe, readProbe] as const;
