import * as wf from '@temporalio/workflow';
import type { AssetActivities } from '../../activities/assets';
import type { MapOutputActivities } from '../../activities/map-outputs';
import type { RunSlotActivities } from '../../activities/run-slots';
import type { SystemActivities } from '../../activities/system';

/**
 * The interpreter's own activities (run records, attempt history, list sizes). They retry for as
 * long as the run lives: a database outage delays the run's bookkeeping, it never fails the run,
 * and a retry every 5 s at most puts the run on record soon after the database is back.
 *
 * They send no heartbeat, so their timeout is also how long a worker killed while running one
 * holds the run up: 20 s (each is a statement or two; a slow one is simply tried again). Work that
 * grows with a mapped task's size gets `bulk`'s longer limit instead.
 */
export const system = wf.proxyActivities<SystemActivities & RunSlotActivities & AssetActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s' },
});

/** Sizing and joining the lists of large mapped tasks: as long as a list takes to read or write. */
export const bulk = wf.proxyActivities<SystemActivities & MapOutputActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s' },
});

/** Run-start lookups run as local activities: no extra round trip through the server. */
export const local = wf.proxyLocalActivities<SystemActivities>({ startToCloseTimeout: '10 seconds' });
