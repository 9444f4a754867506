import * as wf from '@temporalio/workflow';
import type { AssetActivities } from '../../activities/assets';
import type { MapOutputActivities } from '../../activities/map-outputs';
import type { RunSlotActivities } from '../../activities/run-slots';
import type { SystemActivities } from '../../activities/system';

/**
 * The interpreter's own activities (run records, attempt history, list sizes). They retry for as
 * long as the run lives: a database outage delays the run's bookkeeping, it never fails the run,
 * and a retry every 5 s at most puts the run on record soon after the database is back.
 */
export const system = wf.proxyActivities<SystemActivities & RunSlotActivities & MapOutputActivities & AssetActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s' },
});

/** Run-start lookups run as local activities: no extra round trip through the server. */
export const local = wf.proxyLocalActivities<SystemActivities>({ startToCloseTimeout: '10 seconds' });
