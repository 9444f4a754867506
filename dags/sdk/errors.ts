/** What kind of problem a DAG has; stable, for tools that group or filter errors. */
export type DagErrorCode =
  | 'invalid_dag_id'
  | 'invalid_task_id'
  | 'duplicate_task_id'
  | 'cycle'
  | 'dangling_reference'
  | 'unknown_activity'
  | 'activity_name_conflict'
  | 'wrong_task_kind'
  | 'invalid_schedule'
  | 'invalid_timezone'
  | 'invalid_params'
  | 'invalid_trigger_rule'
  | 'invalid_duration'
  | 'invalid_option'
  | 'invalid_input'
  | 'invalid_map'
  | 'build_failed';

/** One problem found while compiling or validating a DAG. */
export interface DagError {
  code: DagErrorCode;
  dagId: string;
  /** The DAG file, when known. */
  file?: string;
  /** The task concerned, when there is one. */
  task?: string;
  /** The problem alone, without location. */
  detail: string;
  /** The full line to show a user: `file: dag 'x', task 'y': detail`. */
  message: string;
}

export function dagError(fields: Omit<DagError, 'message'>): DagError {
  const where = [`dag '${fields.dagId}'`, ...(fields.task !== undefined ? [`task '${fields.task}'`] : [])].join(', ');
  const message = `${fields.file !== undefined ? `${fields.file}: ` : ''}${where}: ${fields.detail}`;
  return { ...fields, message };
}

/** Thrown inside a DAG function when building cannot go on; `compileDag` reports it. */
export class DagBuildError extends Error {
  constructor(
    readonly code: DagErrorCode,
    message: string,
    readonly task?: string,
  ) {
    super(message);
    this.name = 'DagBuildError';
  }
}
