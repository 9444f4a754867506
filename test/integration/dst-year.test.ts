/**
 * Sluice's DST policy against a real Temporal server: the schedule spec of dst.ts fires exactly
 * what fire-times.ts computes, and plain Temporal (no adjustments) does not follow the policy.
 * Schedules are created paused with a dummy action; nothing runs. Needs TEMPORAL_ADDRESS.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Connection, type ScheduleSpec } from '@temporalio/client';
import { msNumberToTs, tsToDate } from '@temporalio/common/lib/time';
import { dstAdjustments, temporalCronString } from '../../server/schedules/dst';
import { fireTimes, transitionsBetween } from '../../server/schedules/fire-times';

const address = process.env.TEMPORAL_ADDRESS;
const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
const skip = address ? false : 'TEMPORAL_ADDRESS is not set';

let connection: Connection;
let client: Client;
before(async () => {
  if (!address) return;
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace });
});
after(async () => connection?.close());

let scheduleCount = 0;

/**
 * What a schedule with `spec` fires in [from, to] (inclusive), per Temporal itself. The schedule
 * is paused, never runs anything, and is deleted again.
 */
async function temporalFires(spec: ScheduleSpec, windows: [Date, Date][]): Promise<Date[][]> {
  const scheduleId = `dst-test-${process.pid}-${++scheduleCount}`;
  const handle = await client.schedule.create({
    scheduleId,
    spec,
    action: { type: 'startWorkflow', workflowType: 'dagRun', taskQueue: 'dst-test', args: [] },
    state: { paused: true, note: 'DST policy test; never unpaused' },
  });
  try {
    const out: Date[][] = [];
    for (const [from, to] of windows) {
      const res = await client.workflowService.listScheduleMatchingTimes({
        namespace,
        scheduleId,
        // Temporal's start is exclusive, its end inclusive.
        startTime: msNumberToTs(from.getTime() - 1000),
        endTime: msNumberToTs(to.getTime()),
      });
      const times = (res.startTime ?? []).map(tsToDate);
      assert.ok(times.length < 1000, 'Temporal caps a listing at 1000 times; use a smaller window');
      out.push(times);
    }
    return out;
  } finally {
    await handle.delete();
  }
}

// Local 2027 in Berlin.
const YEAR: [Date, Date] = [new Date('2026-12-31T23:00:00Z'), new Date('2027-12-31T22:59:59Z')];
const CRON = '30 2 * * *';
const TZ = 'Europe/Berlin';

/** 'YYYY-MM-DD HH:MM CET' or '… CEST': Berlin wall clock. */
function berlin(at: Date): string {
  const local = new Intl.DateTimeFormat('sv-SE', { timeZone: TZ, dateStyle: 'short', timeStyle: 'short' }).format(at);
  const offset = new Intl.DateTimeFormat('en-US', { timeZone: TZ, timeZoneName: 'longOffset' }).format(at);
  return `${local} ${offset.endsWith('+02:00') ? 'CEST' : 'CET'}`;
}

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

test('02:30 Europe/Berlin with the DST adjustments: one fire per local day of 2027', { skip }, async () => {
  const spec: ScheduleSpec = { cronExpressions: [CRON], timezone: TZ, ...dstAdjustments(CRON, TZ, { from: YEAR[0], years: 1 }) };
  const [fires = []] = await temporalFires(spec, [YEAR]);

  assert.equal(fires.length, 365);
  const byDay = new Map(fires.map((f) => [berlin(f).slice(0, 10), berlin(f).slice(11)]));
  assert.equal(byDay.size, 365, 'one fire per local day');
  for (const [day, time] of byDay) {
    const expected = day === '2027-03-28' ? '03:30 CEST' : day === '2027-10-31' ? '03:30 CET' : '02:30';
    assert.ok(time.startsWith(expected), `${day} fired at ${time}`);
  }
  assert.deepEqual(iso(fires), iso(fireTimes(CRON, TZ, ...YEAR)));
});

test('plain Temporal (no adjustments) does not follow the policy', { skip }, async () => {
  const [daily = []] = await temporalFires({ cronExpressions: [CRON], timezone: TZ }, [YEAR]);
  const days = daily.map((f) => berlin(f).slice(0, 10));
  // Spring: 02:30 does not exist and Temporal skips the day.
  assert.equal(daily.length, 364);
  assert.ok(!days.includes('2027-03-28'), 'no fire on the spring-forward day');
  // Autumn: a daily cron fires once, at the second 02:30 (CET), not at the policy's 03:30.
  assert.deepEqual(daily.filter((f) => berlin(f).startsWith('2027-10-31')).map(berlin), ['2027-10-31 02:30 CET']);

  // Sub-hourly crons fare worse: through the repeated hour Temporal's search drifts, firing some
  // ambiguous times and losing the regular 03:00 and 03:20 CET after it.
  const cron = '*/20 * * * *';
  const window: [Date, Date] = [new Date('2027-10-30T23:30:00Z'), new Date('2027-10-31T03:30:00Z')];
  const [[plain = []] = [], [adjusted = []] = []] = await Promise.all([
    temporalFires({ cronExpressions: [cron], timezone: TZ }, [window]),
    temporalFires({ cronExpressions: [cron], timezone: TZ, ...dstAdjustments(cron, TZ, { from: YEAR[0], years: 1 }) }, [window]),
  ]);
  assert.deepEqual(plain.map(berlin), [
    '2027-10-31 01:40 CEST',
    '2027-10-31 02:00 CEST',
    '2027-10-31 02:20 CET',
    '2027-10-31 03:40 CET',
    '2027-10-31 04:00 CET',
    '2027-10-31 04:20 CET',
  ]);
  assert.deepEqual(iso(adjusted), iso(fireTimes(cron, TZ, ...window)));
  assert.deepEqual(adjusted.map(berlin), [
    '2027-10-31 01:40 CEST',
    // 02:00-02:40, both CEST and CET, moved to 03:00-03:40 CET, where the cron fires anyway
    '2027-10-31 03:00 CET',
    '2027-10-31 03:20 CET',
    '2027-10-31 03:40 CET',
    '2027-10-31 04:00 CET',
    '2027-10-31 04:20 CET',
  ]);

  // Santiago's spring day starts at 01:00; Temporal gives it Saturday's weekday, so a Saturday
  // cron also fires on Sunday 2027-09-05 (and a Sunday cron would skip it).
  const saturdays = '0 12 * * 6';
  const september: [Date, Date] = [new Date('2027-09-01T00:00:00Z'), new Date('2027-09-13T00:00:00Z')];
  const [plainSat = []] = await temporalFires({ cronExpressions: [saturdays], timezone: 'America/Santiago' }, [september]);
  assert.deepEqual(iso(plainSat), ['2027-09-04T16:00:00.000Z', '2027-09-05T15:00:00.000Z', '2027-09-11T15:00:00.000Z']);
  assert.deepEqual(iso(fireTimes(saturdays, 'America/Santiago', ...september)), ['2027-09-04T16:00:00.000Z', '2027-09-11T15:00:00.000Z']);
});

test('Temporal fires exactly fireTimes around every 2027 transition, across zones and crons', { skip }, async () => {
  // Transitions at 02:00/03:00 local (Berlin, New York, Sydney), at midnight (Santiago, Havana,
  // Azores, Cairo), at 02:45 (Chatham), by 30 min (Lord Howe), by 2 h (Troll), and none (UTC).
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'America/Santiago', 'America/Havana', 'Atlantic/Azores', 'Africa/Cairo', 'Pacific/Chatham', 'Australia/Lord_Howe', 'Antarctica/Troll', 'UTC'];
  const crons = ['30 2 * * *', '30 1 * * *', '45 1 * * *', '0 1 * * *', '*/15 * * * *', '*/10 * * * *', '0 * * * *', '20,40 1-3 * * *', '40,50 1 * * *', '*/7 2 * * 0', '15 30 2 * * *', '0 0 * * *', '30 23 * * *', '50 2 * * *', '0 3 * * *', '0 12 * * 6', '*/30 * * * 0', '0 12 * * 4,5'];
  const from = new Date('2027-01-01T00:00:00Z');
  const until = new Date('2028-01-01T00:00:00Z');
  const mismatches: string[] = [];
  // allSettled: a failing zone must not leave the others creating schedules after the test ends.
  const settled = await Promise.allSettled(
    zones.map(async (tz) => {
      const ats = transitionsBetween(tz, from.getTime(), until.getTime()).map((t) => t.at);
      // Zones without DST: one ordinary day stands in for the transition windows.
      const windows: [Date, Date][] = (ats.length ? ats : [Date.parse('2027-06-15T12:00:00Z')]).map((at) => [new Date(at - 86_400_000 + 7_000), new Date(at + 86_400_000)]);
      for (const cron of crons) {
        const spec: ScheduleSpec = { cronExpressions: [temporalCronString(cron)], timezone: tz, ...dstAdjustments(cron, tz, { from, years: 1 }) };
        const actual = await temporalFires(spec, windows);
        windows.forEach(([a, b], i) => {
          const [got, want] = [iso(actual[i] ?? []), iso(fireTimes(cron, tz, a, b))];
          const extra = got.filter((t) => !want.includes(t));
          const missing = want.filter((t) => !got.includes(t));
          if (extra.length || missing.length) mismatches.push(`${cron} in ${tz} around ${b.toISOString()}: Temporal also fires [${extra.join(',')}], misses [${missing.join(',')}]`);
        });
      }
    }),
  );
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  // The one known limit (see dst.ts): Chatham's overlap ends at 03:45, mid-hour, and after a
  // skipped second-copy 03:xx time Temporal cannot reach the rest of hour 3.
  assert.deepEqual(mismatches.sort(), [
    '*/10 * * * * in Pacific/Chatham around 2027-04-04T14:00:00.000Z: Temporal also fires [], misses [2027-04-03T15:05:00.000Z]',
    '*/15 * * * * in Pacific/Chatham around 2027-04-04T14:00:00.000Z: Temporal also fires [], misses [2027-04-03T15:00:00.000Z]',
  ]);
});
