import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (CONTRACTS.md), registered by `sluice up` and by the test stack. */
export const DagIdKey = defineSearchAttributeKey('DagId', SearchAttributeType.KEYWORD);
export const LogicalDateKey = defineSearchAttributeKey('LogicalDate', SearchAttributeType.DATETIME);
export const DagRunStateKey = defineSearchAttributeKey('DagRunState', SearchAttributeType.KEYWORD);
export const FailedTasksKey = defineSearchAttributeKey('FailedTasks', SearchAttributeType.KEYWORD_LIST);
/** Set by Temporal Schedules on every scheduled run: the nominal fire time. */
export const ScheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);
