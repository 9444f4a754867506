import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dstAdjustments, temporalCronString } from '../../server/schedules/dst';
import { fireTimes, previousFireTime } from '../../server/schedules/fire-times';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Local wall clock of an instant: { day: 'YYYY-MM-DD', time: 'HH:MM:SS', offset: 'GMT+02:00' }. */
function local(at: Date, timezone: string): { day: string; time: string; offset: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  ) as Record<Intl.DateTimeFormatPartTypes, string>;
  return { day: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}:${parts.second}`, offset: parts.timeZoneName };
}

/** Asserts one fire per local day of 2027 at `usual`, except the listed days. */
function assertOnePerDay(fires: Date[], timezone: string, usual: string, exceptions: Record<string, string>): void {
  const days = fires.map((f) => local(f, timezone).day);
  assert.equal(fires.length, 365);
  assert.equal(new Set(days).size, 365, 'one fire per local day');
  assert.ok(days.every((d) => d.startsWith('2027-')));
  for (const f of fires) {
    const { day, time, offset } = local(f, timezone);
    assert.equal(`${time} ${offset}`.startsWith(exceptions[day] ?? usual), true, `${day}: fired at ${time} ${offset}`);
  }
}

// Local 2027 in Berlin and New York, as instants.
const BERLIN_2027: [Date, Date] = [new Date('2026-12-31T23:00:00Z'), new Date('2027-12-31T22:59:59Z')];
const NEW_YORK_2027: [Date, Date] = [new Date('2027-01-01T05:00:00Z'), new Date('2028-01-01T04:59:59Z')];

test('Berlin 02:30 daily over 2027: 365 fires, one per local day, 03:30 on both transition days', () => {
  const fires = fireTimes('30 2 * * *', 'Europe/Berlin', ...BERLIN_2027);
  assertOnePerDay(fires, 'Europe/Berlin', '02:30:00', {
    '2027-03-28': '03:30:00 GMT+02:00', // spring gap: 02:30 does not exist
    '2027-10-31': '03:30:00 GMT+01:00', // autumn overlap: 02:30 exists twice
  });
  const adj = dstAdjustments('30 2 * * *', 'Europe/Berlin', { from: BERLIN_2027[0], years: 1 });
  assert.deepEqual(
    adj.skip.map(({ comment: _c, ...e }) => e),
    // the whole repeated hour (both copies): Temporal would otherwise fire some of it
    [{ year: 2027, month: 'OCTOBER', dayOfMonth: 31, hour: 2, minute: '*', second: '*' }],
  );
  assert.deepEqual(
    adj.calendars.map(({ comment: _c, ...e }) => e),
    [
      { year: 2027, month: 'MARCH', dayOfMonth: 28, hour: 3, minute: 30, second: 0 },
      { year: 2027, month: 'OCTOBER', dayOfMonth: 31, hour: 3, minute: 30, second: 0 },
    ],
  );
});

test('New York (transitions at 02:00): the gap moves 02:30, the overlap moves 01:30', () => {
  // Spring gap is 02:00-03:00 EST->EDT; the autumn overlap is 01:00-02:00, so 02:30 is unaffected.
  assertOnePerDay(fireTimes('30 2 * * *', 'America/New_York', ...NEW_YORK_2027), 'America/New_York', '02:30:00', {
    '2027-03-14': '03:30:00 GMT-04:00',
  });
  assertOnePerDay(fireTimes('30 1 * * *', 'America/New_York', ...NEW_YORK_2027), 'America/New_York', '01:30:00', {
    '2027-11-07': '02:30:00 GMT-05:00',
  });
  const from = NEW_YORK_2027[0];
  const gapOnly = dstAdjustments('30 2 * * *', 'America/New_York', { from, years: 1 });
  assert.equal(gapOnly.skip.length, 0);
  assert.deepEqual(gapOnly.calendars.map((c) => [c.month, c.dayOfMonth, c.hour, c.minute]), [['MARCH', 14, 3, 30]]);
  const overlapOnly = dstAdjustments('30 1 * * *', 'America/New_York', { from, years: 1 });
  assert.deepEqual(overlapOnly.skip.map((c) => [c.month, c.dayOfMonth, c.hour, c.minute]), [['NOVEMBER', 7, 1, '*']]);
  assert.deepEqual(overlapOnly.calendars.map((c) => [c.month, c.dayOfMonth, c.hour, c.minute]), [['NOVEMBER', 7, 2, 30]]);
});

test('zones without DST get no adjustments', () => {
  for (const tz of ['UTC', 'Etc/UTC', 'Asia/Tokyo']) {
    assert.deepEqual(dstAdjustments('30 2 * * *', tz), { skip: [], calendars: [] });
    assert.deepEqual(dstAdjustments('*/5 * * * *', tz), { skip: [], calendars: [] });
  }
  const fires = fireTimes('30 2 * * *', 'UTC', new Date('2027-01-01T00:00:00Z'), new Date('2027-12-31T23:59:59Z'));
  assert.equal(fires.length, 365);
  assert.ok(fires.every((f) => f.toISOString().endsWith('T02:30:00.000Z')));
});

test('a Berlin cron outside the transition windows (03:00) gets no adjustments', () => {
  assert.deepEqual(dstAdjustments('0 3 * * *', 'Europe/Berlin'), { skip: [], calendars: [] });
  assertOnePerDay(fireTimes('0 3 * * *', 'Europe/Berlin', ...BERLIN_2027), 'Europe/Berlin', '03:00:00', {});
});

test('*/15 in Berlin: compact entries, no duplicate instants, no gap wider than the shift', () => {
  const adj = dstAdjustments('*/15 * * * *', 'Europe/Berlin', { from: new Date('2027-01-01T00:00:00Z'), years: 5 });
  // 10 transitions: 5 autumn days skip the repeated hour 02:xx (one entry each); every
  // transition day gets one calendar entry for 03:00-03:45.
  assert.equal(adj.skip.length, 5);
  assert.equal(adj.calendars.length, 10);
  assert.deepEqual(adj.calendars[0]?.minute, [{ start: 0, end: 45, step: 15 }]);
  const minutely = dstAdjustments('* * * * *', 'Europe/Berlin', { from: new Date('2027-01-01T00:00:00Z'), years: 5 });
  assert.equal(minutely.skip.length + minutely.calendars.length, 15);

  for (const [from, to] of [
    ['2027-03-27T12:00:00Z', '2027-03-28T12:00:00Z'],
    ['2027-10-30T12:00:00Z', '2027-10-31T12:00:00Z'],
  ] as const) {
    const fires = fireTimes('*/15 * * * *', 'Europe/Berlin', new Date(from), new Date(to));
    const ms = fires.map((f) => f.getTime());
    assert.equal(new Set(ms).size, ms.length, 'no duplicate instants');
    for (let i = 1; i < fires.length; i++) {
      const prev = fires[i - 1] as Date;
      const cur = fires[i] as Date;
      const real = cur.getTime() - prev.getTime();
      // Wall clock: at most one 15-min step plus the 1 h shift (01:45 -> 03:00 on both days).
      const wall = real + offsetMs(cur) - offsetMs(prev);
      assert.ok(real > 0 && wall <= 15 * MIN + HOUR, `${prev.toISOString()} -> ${cur.toISOString()}`);
    }
    // In real time the spring day loses nothing (01:45 CET -> 03:00 CEST is 15 min); the autumn
    // day has one 2 h 15 min interval (01:45 CEST -> 03:00 CET): both 02:xx hours are moved.
    const widest = Math.max(...ms.slice(1).map((t, i) => t - (ms[i] as number)));
    assert.equal(widest, from.startsWith('2027-03') ? 15 * MIN : 2 * HOUR + 15 * MIN);
  }
  function offsetMs(at: Date): number {
    const m = /GMT([+-])(\d\d):(\d\d)/.exec(local(at, 'Europe/Berlin').offset) as RegExpExecArray;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * HOUR + Number(m[3]) * MIN);
  }
});

test('previousFireTime: strictly before, same policy', () => {
  const tz = 'Europe/Berlin';
  const prev = (iso: string) => previousFireTime('30 2 * * *', tz, new Date(iso))?.toISOString();
  assert.equal(prev('2027-06-10T00:30:00Z'), '2027-06-09T00:30:00.000Z'); // exactly a fire: the one before
  assert.equal(prev('2027-06-10T00:30:00.001Z'), '2027-06-10T00:30:00.000Z');
  assert.equal(prev('2027-03-28T01:30:00Z'), '2027-03-27T01:30:00.000Z'); // before the moved 03:30 CEST
  assert.equal(prev('2027-03-29T00:30:00Z'), '2027-03-28T01:30:00.000Z'); // the moved fire
  assert.equal(prev('2027-10-31T01:30:00.001Z'), '2027-10-30T00:30:00.000Z'); // 02:30 CET is not a fire
  assert.equal(prev('2027-10-31T02:30:00.001Z'), '2027-10-31T02:30:00.000Z'); // 03:30 CET is
  assert.equal(prev('2027-11-01T01:30:00Z'), '2027-10-31T02:30:00.000Z');
  // Sparse crons look back far enough (Temporal ANDs day-of-month and day-of-week).
  assert.equal(previousFireTime('0 0 29 2 1', 'UTC', new Date('2027-01-01T00:00:00Z'))?.toISOString(), '2016-02-29T00:00:00.000Z');
  // Contiguous intervals: each fire's previous fire is the fire before it.
  const fires = fireTimes('*/20 * * * *', tz, new Date('2027-10-30T22:00:00Z'), new Date('2027-10-31T04:00:00Z'));
  for (let i = 1; i < fires.length; i++) assert.deepEqual(previousFireTime('*/20 * * * *', tz, fires[i] as Date), fires[i - 1]);
});

test('Temporal semantics: day-of-month AND day-of-week, seconds crons, unsupported syntax', () => {
  const fridays13 = fireTimes('0 0 13 * 5', 'UTC', new Date('2027-01-01T00:00:00Z'), new Date('2027-12-31T23:59:59Z'));
  assert.deepEqual(fridays13.map((d) => d.toISOString()), ['2027-08-13T00:00:00.000Z']);

  const seconds = fireTimes('15 30 2 * * *', 'Europe/Berlin', ...BERLIN_2027);
  assertOnePerDay(seconds, 'Europe/Berlin', '02:30:15', { '2027-03-28': '03:30:15', '2027-10-31': '03:30:15' });
  const adj = dstAdjustments('15 30 2 * * *', 'Europe/Berlin', { from: BERLIN_2027[0], years: 1 });
  assert.deepEqual(adj.calendars.map((e) => [e.month, e.hour, e.minute, e.second]), [['MARCH', 3, 30, 15], ['OCTOBER', 3, 30, 15]]);
  assert.equal(temporalCronString('15 30 2 * * *'), '15 30 2 * * * *');
  assert.equal(temporalCronString('30 2 * * *'), '30 2 * * *');
  assert.equal(temporalCronString('@daily'), '@daily');

  for (const cron of ['0 0 L * *', '0 0 * * 5#2', '0 0 ? * 1', 'H 2 * * *']) {
    assert.throws(() => fireTimes(cron, 'UTC', new Date(0), new Date(DAY_MS)), /do not support/);
  }
  assert.throws(() => fireTimes('* * * * *', 'UTC', new Date(0), new Date(DAY_MS), 100), /more than 100/);
});
const DAY_MS = 24 * HOUR;

test('half-hour shifts (Lord Howe): moved by 30 min', () => {
  const tz = 'Australia/Lord_Howe'; // +11 -> +10:30 on 2027-04-04 at 02:00, back on 2027-10-03
  const year: [Date, Date] = [new Date('2026-12-31T13:00:00Z'), new Date('2027-12-31T12:59:59Z')];
  assertOnePerDay(fireTimes('45 1 * * *', tz, ...year), tz, '01:45:00', { '2027-04-04': '02:15:00 GMT+10:30' });
  assertOnePerDay(fireTimes('15 2 * * *', tz, ...year), tz, '02:15:00', { '2027-10-03': '02:45:00 GMT+11:00' });
});

test('midnight gaps (Santiago): day-of-week crons are pinned on the gap day', () => {
  // 2027-09-05 (a Sunday) starts at 01:00: Temporal reads its weekday as Saturday's.
  const from = new Date('2027-01-01T00:00:00Z');
  const sundays = dstAdjustments('*/30 * * * 0', 'America/Santiago', { from, years: 1 });
  assert.deepEqual(
    sundays.calendars.map(({ comment: _c, ...e }) => e),
    [{ year: 2027, month: 'SEPTEMBER', dayOfMonth: 5, hour: [{ start: 1, end: 23, step: 1 }], minute: [{ start: 0, end: 30, step: 30 }], second: 0 }],
  );
  const saturdays = dstAdjustments('0 12 * * 6', 'America/Santiago', { from, years: 1 });
  assert.deepEqual(saturdays.skip.map(({ comment: _c, ...e }) => e), [{ year: 2027, month: 'SEPTEMBER', dayOfMonth: 5, hour: 12, minute: 0, second: 0 }]);
  assert.deepEqual(saturdays.calendars, []);
  // Every day of the week, or a zone whose gap is not at midnight: nothing to pin.
  assert.deepEqual(dstAdjustments('0 12 * * *', 'America/Santiago', { from, years: 1 }), { skip: [], calendars: [] });
  assert.deepEqual(dstAdjustments('0 12 * * 0', 'Europe/Berlin', { from, years: 1 }), { skip: [], calendars: [] });
});
