/** The date rules of logical-dates.ts on the days that make them hard: DST transitions. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogicalDateError, parseDateArg, rangeBounds, triggerDate } from '../../server/client/logical-dates';

const berlin = (cron: string) => ({ dagId: 'd', schedule: { cron, timezone: 'Europe/Berlin' } });
const iso = (d: Date) => d.toISOString();

describe('logical dates', () => {
  test("a bare date is that local day's fire, moved by the DST policy when its wall time does not exist", () => {
    assert.equal(iso(triggerDate(berlin('30 2 * * *'), parseDateArg('2025-03-30')).logicalDate), '2025-03-30T01:30:00.000Z', '03:30 CEST');
    assert.equal(iso(triggerDate(berlin('30 2 * * *'), parseDateArg('2025-03-31')).logicalDate), '2025-03-31T00:30:00.000Z');
    assert.equal(iso(triggerDate(berlin('30 23 * * *'), parseDateArg('2025-01-10')).logicalDate), '2025-01-10T22:30:00.000Z', 'the local day, not the UTC one');
  });

  test('an unscheduled DAG takes a bare date as midnight UTC and any instant as it is', () => {
    const manual = { dagId: 'm', schedule: null };
    assert.equal(iso(triggerDate(manual, parseDateArg('2025-03-30')).logicalDate), '2025-03-30T00:00:00.000Z');
    assert.equal(iso(triggerDate(manual, parseDateArg('2025-03-30T10:11:12.9+02:00')).logicalDate), '2025-03-30T08:11:12.000Z');
  });

  test('no date is an ad-hoc run at the current second', () => {
    const { logicalDate, adHoc } = triggerDate(berlin('0 6 * * *'), undefined, new Date('2025-01-01T10:00:00.750Z'));
    assert.deepEqual([iso(logicalDate), adHoc], ['2025-01-01T10:00:00.000Z', true]);
  });

  test('a range of bare dates covers whole local days, even one whose midnight a DST gap skipped', () => {
    const day = parseDateArg('2025-03-30');
    const berlinDay = rangeBounds('Europe/Berlin', day, day);
    assert.deepEqual([iso(berlinDay.from), iso(berlinDay.to)], ['2025-03-29T23:00:00.000Z', '2025-03-30T21:59:59.999Z'], 'a 23-hour day');
    // Chile moved its clocks from 00:00 to 01:00 on 8 September 2024: that day began at 01:00.
    const chile = rangeBounds('America/Santiago', parseDateArg('2024-09-08'), parseDateArg('2024-09-08'));
    assert.deepEqual([iso(chile.from), iso(chile.to)], ['2024-09-08T04:00:00.000Z', '2024-09-09T02:59:59.999Z']);
  });

  test('malformed dates are refused with the reason', () => {
    for (const [text, reason] of [
      ['2025-02-29', /no such day/],
      ['2025-03-01T06:00', /needs its zone/],
      ['tomorrow', /use YYYY-MM-DD/],
      ['2025-3-1', /use YYYY-MM-DD/],
    ] as const) {
      assert.throws(() => parseDateArg(text), (err: unknown) => err instanceof LogicalDateError && reason.test(err.message), text);
    }
  });
});
