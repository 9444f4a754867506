import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barChartSvg, dagGraphSvg, ganttSvg, layeredLayout, lineChartSvg, type Layout, type LayoutEdge } from '../../server/console/svg';
import { relativeTimeTicks } from '../../server/console/svg/ticks';

const EVIL = `<script>alert("x")</script> & 'quoted'`;
const ESCAPED = `&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;`;
const edges = (...pairs: Array<[string, string]>): LayoutEdge[] => pairs.map(([from, to]) => ({ from, to }));
const byId = (layout: Layout) => new Map(layout.nodes.map((node) => [node.id, node]));
const at = (t0: number, seconds: number) => new Date(t0 + seconds * 1000).toISOString();
const T0 = Date.parse('2026-11-30T04:00:00Z');

/** Crossings between edges of adjacent layers (enough for the small graphs here). */
function crossings(layout: Layout): number {
  const nodes = byId(layout);
  const spans = layout.edges.map((e) => [nodes.get(e.from), nodes.get(e.to)] as const);
  let count = 0;
  for (const [a1, b1] of spans) {
    for (const [a2, b2] of spans) {
      if (!a1 || !b1 || !a2 || !b2 || a1.layer !== a2.layer || b1.layer !== b2.layer) continue;
      if (a1.order < a2.order && b1.order > b2.order) count += 1;
    }
  }
  return count;
}

/** Tags open and close in order: nothing from data broke out of its text or attribute. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const [tag, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)\b[^<>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (!closing) stack.push(name as string);
    else assert.equal(stack.pop(), name, `unbalanced ${tag}`);
  }
  assert.deepEqual(stack, []);
  assert.equal(svg.replace(/<[^<>]*>/g, '').includes('<'), false, 'a stray < in text');
}

/** What every SVG of the console must be: safe under the CSP, scalable, and labelled. */
function assertConsoleSvg(svg: string, ariaLabel: string): void {
  // Its natural width in pixels, the viewBox's, which the stylesheet lets shrink but never grow.
  const box = /^<svg [^>]*viewBox="0 0 ([\d.]+) [\d.]+"/.exec(svg);
  assert.ok(box, 'a viewBox');
  assert.match(svg, new RegExp(`^<svg [^>]*width="${box[1] ?? ''}"`));
  assert.match(svg, /^<svg [^>]*role="img"/);
  assert.ok(svg.includes(`aria-label="${ariaLabel.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;')}"`));
  assert.doesNotMatch(svg, /style=/i);
  assert.doesNotMatch(svg, /<script/i);
  assert.doesNotMatch(svg, /\son[a-z]+=/i);
  assertWellFormed(svg);
}

test('layout: a diamond takes three layers, the middle two nodes one above the other', () => {
  const layout = layeredLayout([{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }], edges(['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']));
  const nodes = byId(layout);
  assert.deepEqual(
    layout.nodes.map((n) => [n.id, n.layer]),
    [
      ['a', 0],
      ['b', 1],
      ['c', 1],
      ['d', 2],
    ],
  );
  const [b, c] = [nodes.get('b'), nodes.get('c')];
  assert.ok(b && c);
  assert.equal(b.x, c.x);
  assert.notEqual(b.order, c.order);
  assert.ok(Math.abs(b.y - c.y) >= b.height, 'b and c overlap');
  // Edges leave a box's right side and enter the next one's left side.
  const ab = layout.edges.find((e) => e.from === 'a' && e.to === 'b');
  const a = nodes.get('a');
  assert.ok(ab && a);
  assert.deepEqual(ab.points[0], [a.x + a.width, a.y + a.height / 2]);
  assert.deepEqual(ab.points.at(-1), [b.x, b.y + b.height / 2]);
});

test('layout: barycenter ordering removes the crossing of a1→b2, a2→b1', () => {
  const layout = layeredLayout([{ id: 'a1' }, { id: 'a2' }, { id: 'b1' }, { id: 'b2' }], edges(['a1', 'b2'], ['a2', 'b1']));
  assert.equal(crossings(layout), 0);
  const nodes = byId(layout);
  assert.ok((nodes.get('b2')?.y ?? 0) < (nodes.get('b1')?.y ?? 0));
});

test('layout: a long edge gets waypoints in the layers it crosses, and runs around the boxes there', () => {
  const layout = layeredLayout([{ id: 'a' }, { id: 'b' }, { id: 'c' }], edges(['a', 'b'], ['b', 'c'], ['a', 'c']));
  const long = layout.edges.find((e) => e.from === 'a' && e.to === 'c');
  const b = byId(layout).get('b');
  assert.ok(long && b);
  assert.equal(long.points.length, 4);
  const [, enter, leave] = long.points as Array<[number, number]>;
  assert.ok(enter && leave);
  assert.deepEqual([enter[0], leave[0]], [b.x, b.x + b.width]);
  assert.ok(enter[1] <= b.y || enter[1] >= b.y + b.height, 'the long edge runs through b');
});

test('layout: unknown ids, self-loops, duplicates and isolated nodes', () => {
  const layout = layeredLayout(
    [{ id: 'a' }, { id: 'b', width: 90 }, { id: 'a' }, { id: 'alone' }],
    edges(['a', 'b'], ['a', 'b'], ['a', 'ghost'], ['ghost', 'b'], ['b', 'b']),
  );
  assert.deepEqual(
    layout.nodes.map((n) => n.id),
    ['a', 'b', 'alone'],
  );
  assert.deepEqual(
    layout.edges.map((e) => `${e.from}→${e.to}`),
    ['a→b'],
  );
  const nodes = byId(layout);
  assert.equal(nodes.get('b')?.width, 90);
  assert.equal(nodes.get('alone')?.layer, 0);
  assert.deepEqual(layeredLayout([], []).nodes, []);
});

test('layout: a cycle is laid out (a back edge drawn backwards), not looped on', () => {
  const layout = layeredLayout([{ id: 'a' }, { id: 'b' }, { id: 'c' }], edges(['a', 'b'], ['b', 'c'], ['c', 'a']));
  assert.deepEqual(
    layout.nodes.map((n) => n.layer),
    [0, 1, 2],
  );
  const back = layout.edges.find((e) => e.from === 'c');
  const [a, c] = [byId(layout).get('a'), byId(layout).get('c')];
  assert.ok(back && a && c);
  assert.deepEqual(back.points[0], [c.x, c.y + c.height / 2]);
  assert.deepEqual(back.points.at(-1), [a.x + a.width, a.y + a.height / 2]);
  // Two nodes pointing at each other, and a cycle inside a bigger graph.
  assert.equal(layeredLayout([{ id: 'x' }, { id: 'y' }], edges(['x', 'y'], ['y', 'x'])).edges.length, 2);
  const ids = Array.from({ length: 50 }, (_, i) => ({ id: `n${i}` }));
  const ring = ids.map((n, i) => ({ from: n.id, to: `n${(i + 1) % 50}` }));
  assert.equal(layeredLayout(ids, ring).nodes.length, 50);
});

test('layout: 500 random nodes in well under a second, deterministic, no boxes overlapping in a layer', () => {
  let seed = 42;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const nodes = Array.from({ length: 500 }, (_, i) => ({ id: `task_${i}`, width: 80 + Math.floor(random() * 120) }));
  const links: LayoutEdge[] = [];
  for (let i = 1; i < nodes.length; i++) {
    for (let k = 0; k < 1 + Math.floor(random() * 3); k++) links.push({ from: `task_${Math.floor(random() * i)}`, to: `task_${i}` });
  }
  const started = performance.now();
  const layout = layeredLayout(nodes, links);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1000, `took ${Math.round(elapsed)} ms`);
  assert.deepEqual(layeredLayout(nodes, links), layout);

  const layers = new Map<number, typeof layout.nodes>();
  for (const node of layout.nodes) layers.set(node.layer, [...(layers.get(node.layer) ?? []), node]);
  for (const layer of layers.values()) {
    const sorted = layer.slice().sort((p, q) => p.y - q.y);
    assert.deepEqual(
      sorted.map((n) => n.order),
      sorted.map((_, i) => i),
    );
    sorted.slice(1).forEach((below, i) => {
      const above = sorted[i];
      assert.ok(above && below.y >= above.y + above.height - 1e-6, `${below.id} overlaps the box above it`);
    });
  }
  for (const node of layout.nodes) assert.ok(node.x >= 0 && node.y >= 0 && node.x + node.width <= layout.width && node.y + node.height <= layout.height);
  for (const edge of layout.edges) assert.ok((edge.points.at(-1)?.[0] ?? 0) > (edge.points[0]?.[0] ?? 0), 'an edge points leftwards');
});

test('DAG graph: nodes carry their task, state and kind; links, tooltips, truncation, legend', () => {
  const longName = 'load_fact_sales_for_every_region_and_every_day_of_the_year';
  const svg = dagGraphSvg({
    ariaLabel: 'Tasks of daily_orders',
    nodes: [
      { id: 'extract', state: 'success', href: '/runs/r1#task-extract' },
      { id: longName, state: 'failed', detail: 'exit code 1' },
      { id: 'raw/orders.csv', kind: 'dataset' },
      { id: 'bad-link', state: 'running', href: 'javascript:alert(1)' },
    ],
    edges: edges(['raw/orders.csv', 'extract'], ['extract', longName]),
  });
  assertConsoleSvg(svg, 'Tasks of daily_orders');
  assert.match(svg, /<a href="\/runs\/r1#task-extract"><g class="node" data-task="extract" data-state="success" data-kind="task">/);
  assert.match(svg, /<g class="node" data-task="raw\/orders.csv" data-kind="dataset">/);
  assert.doesNotMatch(svg, /javascript:/);
  assert.ok(svg.includes(`<title>${longName} — failed\nexit code 1</title>`));
  assert.match(svg, /> load_fact_sales_for_[a-z_]*…<\/text>/);
  assert.equal((svg.match(/class="edge"/g) ?? []).length, 2);
  assert.match(svg, /marker-end="url\(#sluice-dag-arrow\)"/);
  const legend = svg.slice(svg.indexOf('<g class="legend">'));
  assert.deepEqual(
    [...legend.matchAll(/font-size="11" fill="#333333">([^<]+)</g)].map((m) => m[1]),
    ['success', 'failed', 'running'],
  );
  assertConsoleSvg(dagGraphSvg({ nodes: [], edges: [], ariaLabel: 'empty' }), 'empty');
});

test('Gantt: a queue gap from readyAt to the first attempt, and none when there was no wait', () => {
  const svg = ganttSvg({
    ariaLabel: 'Timeline',
    now: new Date(T0 + 60_000),
    rows: [
      { id: 'waited', label: 'waited', readyAt: at(T0, 0), bars: [{ start: at(T0, 1.2), end: at(T0, 5), state: 'success' }] },
      { id: 'prompt', label: 'prompt', readyAt: at(T0, 5), bars: [{ start: at(T0, 5), end: at(T0, 9), state: 'success' }] },
      { id: 'no-ready', label: 'no-ready', bars: [{ start: at(T0, 9), end: at(T0, 12), state: 'success' }] },
      {
        id: 'retried',
        label: 'retried',
        readyAt: at(T0, 12),
        bars: [
          { start: at(T0, 12), end: at(T0, 14), state: 'failed', label: 'attempt 1' },
          { start: at(T0, 20), state: 'running', label: 'attempt 2' },
        ],
      },
      { id: 'still-queued', label: 'still-queued', readyAt: at(T0, 30), bars: [] },
      { id: 'pending', label: 'pending', bars: [] },
    ],
  });
  assertConsoleSvg(svg, 'Timeline');
  const rows = new Map(
    svg
      .split('<g class="row" ')
      .slice(1)
      .map((row) => [/^data-task="([^"]+)"/.exec(row)?.[1], row]),
  );
  assert.deepEqual([...rows.keys()], ['waited', 'prompt', 'no-ready', 'retried', 'still-queued', 'pending']);
  const gap = (id: string) => /class="queue-gap"[^>]*><title>([^<]*)<\/title>/.exec(rows.get(id) ?? '')?.[1];
  assert.equal(gap('waited'), 'queued 1.2 s');
  assert.equal(gap('prompt'), undefined);
  assert.equal(gap('no-ready'), undefined);
  assert.equal(gap('retried'), undefined);
  assert.equal(gap('still-queued'), 'queued 30 s so far, not started yet');
  assert.equal(gap('pending'), undefined);
  assert.match(svg, /<pattern id="sluice-gantt-hatch"/);
  assert.equal((rows.get('retried')?.match(/class="bar"/g) ?? []).length, 2);
  assert.match(rows.get('retried') ?? '', /attempt 2: running, 2026-11-30 04:00:20 → now \(still going\) \(40 s\)/);
  assert.match(svg, /<line class="now"/);

  // Without a wait anywhere: no gaps and no hatching in the legend.
  const plain = ganttSvg({ ariaLabel: 'x', now: new Date(T0), rows: [{ id: 't', label: 't', readyAt: at(T0, 2), bars: [{ start: at(T0, 1), end: at(T0, 3), state: 'success' }] }] });
  assert.doesNotMatch(plain, /class="queue-gap"/);
  assert.doesNotMatch(plain, /waiting to start/);
  assert.doesNotMatch(plain, /class="now"/);
  assertConsoleSvg(ganttSvg({ ariaLabel: 'none', now: new Date(), rows: [] }), 'none');
});

test('Gantt: the axis counts from the earliest time in a unit that suits the span', () => {
  assert.deepEqual(
    relativeTimeTicks(3000).map((t) => t.label),
    ['0', '+0.5 s', '+1 s', '+1.5 s', '+2 s', '+2.5 s', '+3 s'],
  );
  assert.deepEqual(
    relativeTimeTicks(600).map((t) => t.label),
    ['0', '+0.1 s', '+0.2 s', '+0.3 s', '+0.4 s', '+0.5 s', '+0.6 s'],
  );
  assert.deepEqual(
    relativeTimeTicks(10 * 60_000).map((t) => t.label),
    ['0', '+2 min', '+4 min', '+6 min', '+8 min', '+10 min'],
  );
  assert.equal(relativeTimeTicks(5 * 3_600_000)[1]?.label, '+1 h');
  assert.equal(relativeTimeTicks(40)[1]?.label, '+10 ms');
});

test('line chart: colour and a marker shape per series, values in tooltips, empty and single-point data', () => {
  const series = ['a', 'b', 'c', 'd'].map((name, i) => ({
    name,
    points: [
      { x: '2026-11-01T00:00:00Z', y: i },
      { x: new Date('2026-11-02T00:00:00Z'), y: -i },
    ],
  }));
  const svg = lineChartSvg({ series, ariaLabel: 'Rows', yLabel: 'rows' });
  assertConsoleSvg(svg, 'Rows');
  assert.equal((svg.match(/<g class="series"/g) ?? []).length, 4);
  assert.match(svg, /<circle [^>]*fill="#0072B2"/);
  assert.match(svg, /<rect [^>]*fill="#E69F00"/);
  assert.match(svg, /<title>d: 2026-11-02 00:00:00 UTC → -3<\/title>/);
  assert.match(svg, /text-anchor="end"[^>]*>-\d+<\/text>/, 'negative values on the y axis');

  const single = lineChartSvg({ series: [{ name: 'one', points: [{ x: 5, y: 7 }] }], ariaLabel: 'One', formatY: (v) => `${v} rows` });
  assertConsoleSvg(single, 'One');
  assert.match(single, /<title>one: 5 → 7 rows<\/title>/);
  assert.doesNotMatch(single, /NaN|Infinity/);

  for (const empty of [[], [{ name: 'nothing', points: [] }], [{ name: 'bad', points: [{ x: 'not a date', y: 1 }] }]]) {
    const none = lineChartSvg({ series: empty, ariaLabel: 'Empty' });
    assertConsoleSvg(none, 'Empty');
    assert.match(none, />No data</);
  }
});

test('bar chart: negative values grow left of the zero line, every bar has its value printed', () => {
  const svg = barChartSvg({
    ariaLabel: 'Change',
    bars: [
      { label: 'up', value: 1200 },
      { label: 'down', value: -300 },
      { label: 'flat', value: 0 },
    ],
  });
  assertConsoleSvg(svg, 'Change');
  const zero = Number(/class="zero" x1="([\d.]+)"/.exec(svg)?.[1]);
  const rect = (label: string) => {
    const m = new RegExp(`data-label="${label}">.*?<rect x="([\\d.]+)" y="[\\d.]+" width="([\\d.]+)"`).exec(svg);
    return { x: Number(m?.[1]), width: Number(m?.[2]) };
  };
  assert.ok(Math.abs(rect('up').x - zero) < 0.2 && rect('up').width > 0);
  assert.ok(Math.abs(rect('down').x + rect('down').width - zero) < 0.2 && rect('down').width > 0);
  assert.ok(rect('up').width > rect('down').width);
  for (const value of ['1,200', '-300', '0']) assert.match(svg, new RegExp(`class="value"[^>]*>${value}</text>`));

  const columns = barChartSvg({ ariaLabel: 'Cols', horizontal: false, bars: [{ label: 'x', value: -2, series: 's1' }, { label: 'y', value: 3, series: 's2' }] });
  assertConsoleSvg(columns, 'Cols');
  assert.match(columns, /<g class="legend">/);
  const single = barChartSvg({ ariaLabel: 'One', bars: [{ label: 'only', value: 5 }], formatValue: (v) => `${v} %` });
  assert.match(single, />5 %<\/text>/);
  assert.match(barChartSvg({ ariaLabel: 'None', bars: [] }), />No data</);
});

test('every renderer escapes text from data, and none emits style= or a script', () => {
  const svgs = [
    dagGraphSvg({
      ariaLabel: EVIL,
      nodes: [
        { id: EVIL, label: EVIL, state: EVIL, detail: EVIL, href: `/x?"${EVIL}` },
        { id: 'b', kind: 'dataset', state: 'success' },
      ],
      edges: [{ from: EVIL, to: 'b' }],
    }),
    ganttSvg({
      ariaLabel: EVIL,
      now: new Date(T0 + 10_000),
      rows: [{ id: EVIL, label: EVIL, readyAt: at(T0, 0), bars: [{ start: at(T0, 1), state: EVIL, label: EVIL }] }],
    }),
    lineChartSvg({ ariaLabel: EVIL, yLabel: EVIL, series: [{ name: EVIL, points: [{ x: 1, y: 2 }] }], formatY: () => EVIL }),
    barChartSvg({ ariaLabel: EVIL, bars: [{ label: EVIL, value: 1, series: EVIL }], formatValue: () => EVIL }),
    barChartSvg({ ariaLabel: EVIL, horizontal: false, bars: [{ label: EVIL, value: -1, series: EVIL }] }),
    barChartSvg({ ariaLabel: EVIL, bars: [] }),
  ];
  for (const svg of svgs) {
    assertConsoleSvg(svg, EVIL);
    assert.doesNotMatch(svg, /alert\("x"\)/);
    // In a tooltip or label besides the aria-label (the "no data" image has only that).
    assert.ok(svg.split(ESCAPED).length - 1 >= (svg.includes('No data') ? 1 : 2), 'the text is shown, escaped');
  }
});
