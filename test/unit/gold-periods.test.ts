/** The periods the gold pipelines replace, on the dates that make them hard: year ends and off-schedule runs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asOfFor, dateKey, hourlyWindow, isoWeekOf } from '../../activities/gold/periods';

describe('hourlyWindow', () => {
  test('a scheduled run replaces its hour and the three before it', () => {
    assert.deepEqual(hourlyWindow('2026-11-21T13:00:00Z', '2026-11-21T14:00:00Z'), { from: '2026-11-21T10:00:00.000Z', to: '2026-11-21T14:00:00.000Z' });
  });

  test('an off-schedule run starts at a whole hour and ends where its interval ends; midnight is crossed', () => {
    assert.deepEqual(hourlyWindow('2026-11-21T01:00:00Z', '2026-11-21T01:23:05Z'), { from: '2026-11-20T22:00:00.000Z', to: '2026-11-21T01:23:05.000Z' });
  });

  test('a non-instant is refused', () => {
    assert.throws(() => hourlyWindow('yesterday', '2026-11-21T01:00:00Z'), /not an instant/);
  });
});

describe('asOfFor', () => {
  test('the midnight run is as of the day before and uses data before its fire time', () => {
    assert.deepEqual(asOfFor('2026-11-22T00:00:00Z'), { asOf: '2026-11-21', cutoff: '2026-11-22T00:00:00.000Z' });
  });

  test('an off-schedule run is as of its own day, up to its fire time', () => {
    assert.deepEqual(asOfFor('2026-11-22T14:23:05Z'), { asOf: '2026-11-22', cutoff: '2026-11-22T14:23:05.000Z' });
  });
});

describe('isoWeekOf', () => {
  test("the Monday run's interval is the week before: 2026-W47", () => {
    assert.deepEqual(isoWeekOf('2026-11-16T00:00:00Z'), {
      name: '2026-W47',
      start: '2026-11-16',
      last: '2026-11-22',
      end: '2026-11-23',
      previousStart: '2026-11-09',
    });
    assert.equal(isoWeekOf('2026-11-22T23:59:59.999Z').name, '2026-W47', 'Sunday night is still the same week');
  });

  test('the ISO year differs from the calendar year around 1 January', () => {
    assert.equal(isoWeekOf('2027-01-01T12:00:00Z').name, '2026-W53', 'Friday 1 Jan 2027 belongs to 2026, which has 53 weeks');
    assert.equal(isoWeekOf('2027-01-04T00:00:00Z').name, '2027-W01');
    assert.equal(isoWeekOf('2024-12-30T00:00:00Z').name, '2025-W01', 'Monday 30 Dec 2024 starts 2025-W01');
    assert.equal(isoWeekOf('2024-12-30T00:00:00Z').start, '2024-12-30');
    assert.equal(isoWeekOf('2021-01-03T00:00:00Z').name, '2020-W53');
    assert.equal(isoWeekOf('2026-01-01T00:00:00Z').name, '2026-W01', 'Thursday 1 Jan 2026 is in week 1');
  });

  test('the previous week may be in the previous ISO year', () => {
    const week = isoWeekOf('2027-01-05T00:00:00Z');
    assert.deepEqual([week.name, week.previousStart], ['2027-W01', '2026-12-28']);
  });
});

test('dateKey is yyyymmdd', () => {
  assert.equal(dateKey('2026-11-09'), 20261109);
});
