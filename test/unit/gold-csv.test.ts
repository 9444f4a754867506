/** The weekly reports' CSV: RFC 4180 quoting, and the files built from a week's stored rows. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvDocument, csvField, csvRecord } from '../../activities/gold/csv';
import { isoWeekOf } from '../../activities/gold/periods';
import { weeklyReportFiles } from '../../activities/gold/weekly-reports';
import type { WeeklySalesRow } from '../../activities/gold/weekly-sql';

describe('RFC 4180', () => {
  test('plain fields stay bare; commas, quotes, CR and LF are quoted with quotes doubled', () => {
    assert.equal(csvField('Garden'), 'Garden');
    assert.equal(csvField('Home, Garden'), '"Home, Garden"');
    assert.equal(csvField('12" pan'), '"12"" pan"');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\r'), '"cr\r"');
    assert.equal(csvField(' padded '), '" padded "', 'readers that trim unquoted fields keep the spaces');
  });

  test('null is an empty field; numbers and booleans are written as they print', () => {
    assert.equal(csvRecord([null, undefined, 1.5, 0, true, '']), ',,1.5,0,true,\r\n');
  });

  test('a document is the header and one CRLF-ended record per row', () => {
    assert.equal(csvDocument(['a', 'b'], [['1', 'x,y'], ['2', null]]), 'a,b\r\n1,"x,y"\r\n2,\r\n');
    assert.equal(csvDocument(['a'], []), 'a\r\n');
  });
});

const row = (dimension: WeeklySalesRow['dimension'], member: string, revenue: string, rank: number, extra: Partial<WeeklySalesRow> = {}): WeeklySalesRow => ({
  dimension,
  member,
  member_name: null,
  revenue,
  orders: 2,
  units: 3,
  rank,
  revenue_prev_week: null,
  wow_change: null,
  avg_order_value: null,
  quality_score: null,
  quality_trend: null,
  ...extra,
});

test('weekly report files: one summary row, members by rank, product names quoted, quality days', () => {
  const week = isoWeekOf('2026-11-16T00:00:00Z');
  const files = weeklyReportFiles(week, [
    row('category', 'Home, Garden', '60.00', 1),
    row('product', 'SKU-00001', '60.00', 1, { member_name: 'Pan "Pro"' }),
    row('region', 'North', '60.00', 1, { revenue_prev_week: '40.00', wow_change: '0.5000' }),
    row('total', 'all', '60.00', 1, {
      revenue_prev_week: '40.00', wow_change: '0.5000', avg_order_value: '30.00', quality_score: '0.9500',
      quality_trend: [{ day: '2026-11-16', score: 0.95 }, { day: '2026-11-17', score: null }],
    }),
  ]);
  assert.deepEqual(Object.keys(files).sort(), ['quality_trend.csv', 'revenue_by_category.csv', 'revenue_by_region.csv', 'summary.csv', 'top_products.csv']);
  assert.equal(
    files['summary.csv'],
    'iso_week,week_start,week_end,revenue,orders,units,revenue_prev_week,wow_change,avg_order_value,quality_score\r\n' +
      '2026-W47,2026-11-16,2026-11-22,60.00,2,3,40.00,0.5000,30.00,0.9500\r\n',
  );
  assert.equal(files['revenue_by_region.csv'], 'rank,region,revenue,orders,units,revenue_prev_week,wow_change\r\n1,North,60.00,2,3,40.00,0.5000\r\n');
  assert.equal(files['revenue_by_category.csv'], 'rank,category,revenue,orders,units,revenue_prev_week,wow_change\r\n1,"Home, Garden",60.00,2,3,,\r\n');
  assert.equal(files['top_products.csv'], 'rank,sku,product,revenue,orders,units,revenue_prev_week,wow_change\r\n1,SKU-00001,"Pan ""Pro""",60.00,2,3,,\r\n');
  assert.equal(files['quality_trend.csv'], 'day,score\r\n2026-11-16,0.95\r\n2026-11-17,\r\n');
});
