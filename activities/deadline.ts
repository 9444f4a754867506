/**
 * Run deadlines (`deadline: { at: '06:00' }`): the instant a wall-clock deadline falls on. Time
 * zone arithmetic needs ICU data, which may differ between worker versions, so it runs here, in
 * a local activity whose answer the run's history keeps, and never in the workflow sandbox.
 */
import { DEADLINE_TIME } from '../dags/sdk/validate';
import { DAY, HOUR, MINUTE, offsetAt, policyFire } from '../server/schedules/fire-times';

/**
 * The first time the zone's clocks read `atTime` strictly after `logicalDate`. A wall time that
 * does not exist that day (or exists twice) moves as scheduled fires do (fire-times.ts): forward
 * by the clock change.
 */
export function deadlineAt(logicalDate: Date, atTime: string, timezone: string): Date {
  const match = DEADLINE_TIME.exec(atTime);
  if (!match) throw new Error(`deadline time must be HH:MM, got '${atTime}'`);
  const wallOfDay = Number(match[1]) * HOUR + Number(match[2]) * MINUTE;
  const after = logicalDate.getTime();
  const localDay = Math.floor((after + offsetAt(timezone, after)) / DAY) * DAY;
  // The local day of the logical date or the next one; a clock change can push one more day.
  for (let day = localDay; day <= localDay + 3 * DAY; day += DAY) {
    const { at } = policyFire(timezone, day + wallOfDay);
    if (at > after) return new Date(at);
  }
  throw new Error(`no ${atTime} in ${timezone} within 3 days of ${logicalDate.toISOString()}`);
}

export function createDeadlineActivities() {
  return {
    async deadlineInstant(args: { logicalDate: string; atTime: string; timezone: string }): Promise<string> {
      return deadlineAt(new Date(args.logicalDate), args.atTime, args.timezone).toISOString();
    },
  };
}

export type DeadlineActivities = ReturnType<typeof createDeadlineActivities>;
