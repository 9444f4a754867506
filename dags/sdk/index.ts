/**
 * Sluice DAG authoring SDK. Task functions are defined once (`defineTask`, `defineSensor`,
 * `defineBranch`) and referenced by object; a DAG module does `export default dag(...)`, wiring
 * typed `Ref`s from one task's output into another's input. `compileDag` turns a DAG into the
 * serializable DagSpec that the `dagRun` workflow interprets. Importing this module does no I/O.
 * DAG folders outside this repository import it as `sluice/sdk`; zod comes with it as `z`, so a
 * DAG's params schema and the SDK share one copy of zod.
 */
export { z } from 'zod';
export {
  callback,
  dag,
  isDagDefinition,
  type Callback,
  type DagBuilder,
  type DagDefinition,
  type DagOptions,
  type InputArgs,
  type MapSpec,
  type NoParams,
  type ParamsSchema,
} from './dag';
export { compileDag, type CompileOptions, type CompileResult } from './compile';
export type { ConnectionKind, Connections, HttpConnection, S3Connection, Variables } from './connections';
export { parseDuration, type Duration, type DurationUnit } from './durations';
export type { DagError, DagErrorCode } from './errors';
export { canonicalJson, specVersion } from './hash';
export { loadDagFolder, type LoadedDag, type LoadOptions, type LoadResult } from './loader';
export type { SensorOptions, TaskDefaults, TaskOptions } from './options';
export { checkParamsSchema, parseParams, validateParams, type ParamsResult } from './params';
export {
  runContext,
  tpl,
  type TemplateValue,
  type AnyTaskHandle,
  type FieldKey,
  type FieldType,
  type OutputRef,
  type Ref,
  type RefSource,
  type RunContext,
  type TaskHandle,
  type Wire,
} from './refs';
export {
  catalogFrom,
  defineBranch,
  defineSensor,
  defineTask,
  isTaskDef,
  runTask,
  type AnyTaskDef,
  type BranchChoice,
  type BranchDef,
  type Catalog,
  type DefKind,
  type LogFn,
  type RunOutcome,
  type SensorDef,
  type TaskContext,
  type TaskDef,
  type TaskDefOptions,
  type TaskLogger,
} from './task-def';
export { findCycles, isTimeZone, validateDag } from './validate';
