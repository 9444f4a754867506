import * as wf from '@temporalio/workflow';
import type { SystemActivities } from '../../activities/system';

/** The interpreter's own activities (run records, list sizes): short, retried until they land. */
export const system = wf.proxyActivities<SystemActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, initialInterval: '1s', maximumInterval: '30s' },
});

/** Run-start lookups run as local activities: no extra round trip through the server. */
export const local = wf.proxyLocalActivities<SystemActivities>({ startToCloseTimeout: '10 seconds' });
