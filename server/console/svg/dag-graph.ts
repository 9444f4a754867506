import { stateStyle } from '../html/states';
import { layeredLayout, type LayoutEdge, type PlacedNode } from './dag-layout';
import { legend, stateLegendItems } from './legend';
import { charsThatFit, escXml, n, noDataSvg, safeHref, svgRoot, textWidth, truncate } from './xml';

export interface GraphNode {
  id: string;
  /** Shown in the box; the id when absent. */
  label?: string;
  /** A run or task state (see html/states.ts); without one the box is drawn plain. */
  state?: string;
  /** Tasks are rounded boxes, datasets cylinders. */
  kind?: 'task' | 'dataset';
  href?: string;
  /** More text for the tooltip (an error, a duration...). */
  detail?: string;
}

export interface DagGraphInput {
  nodes: GraphNode[];
  edges: LayoutEdge[];
  ariaLabel: string;
}

const FONT_SIZE = 12;
const NODE_HEIGHT = 36;
const MIN_WIDTH = 72;
const MAX_WIDTH = 200;
const PADDING = 12;
/** Room for the state symbol and the space after it. */
const SYMBOL_WIDTH = 14;
const PLAIN_FILL = '#ffffff';
const ARROW_ID = 'sluice-dag-arrow';

/**
 * A DAG (tasks, or datasets and the tasks between them) as an SVG: layered left to right, each
 * node `<g class="node" data-task data-state data-kind>` filled with its state's colour and
 * carrying its symbol, with a legend of the states shown. Long labels are cut short on screen and
 * kept whole in the tooltip.
 */
export function dagGraphSvg(input: DagGraphInput): string {
  if (input.nodes.length === 0) return noDataSvg(input.ariaLabel, 'No tasks');
  // The first node with an id wins, as in the layout.
  const byId = new Map<string, GraphNode>();
  for (const node of input.nodes) if (!byId.has(node.id)) byId.set(node.id, node);
  const unique = [...byId.values()];
  const boxes = new Map(unique.map((node) => [node.id, box(node)]));
  const layout = layeredLayout(
    unique.map((node) => ({ id: node.id, width: boxes.get(node.id)?.width })),
    input.edges,
    { nodeHeight: NODE_HEIGHT },
  );

  const edges = layout.edges.map(
    (edge) =>
      `<path class="edge" data-from="${escXml(edge.from)}" data-to="${escXml(edge.to)}" d="${curve(edge.points)}" fill="none" stroke="#777777" stroke-width="1.5" marker-end="url(#${ARROW_ID})"/>`,
  );
  const nodes = layout.nodes.map((placed) => renderNode(byId.get(placed.id) as GraphNode, boxes.get(placed.id) as Box, placed));

  const states = unique.flatMap((node) => (node.state === undefined ? [] : [node.state]));
  const width = Math.max(layout.width, 240);
  const key = legend(stateLegendItems(states), 8, layout.height + 4, width - 16);
  const defs =
    `<defs><marker id="${ARROW_ID}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">` +
    `<path d="M0,0 L10,5 L0,10 z" fill="#777777"/></marker></defs>`;
  return svgRoot({
    width,
    height: layout.height + (key.height > 0 ? key.height + 8 : 0),
    ariaLabel: input.ariaLabel,
    className: 'dag-graph',
    body: [defs, `<g class="edges">${edges.join('')}</g>`, `<g class="nodes">${nodes.join('\n')}</g>`, key.svg].join('\n'),
  });
}

interface Box {
  width: number;
  /** The label as drawn (maybe cut short). */
  text: string;
}

function box(node: GraphNode): Box {
  const label = node.label ?? node.id;
  const symbolRoom = node.state === undefined ? 0 : SYMBOL_WIDTH;
  const text = truncate(label, charsThatFit(MAX_WIDTH - 2 * PADDING - symbolRoom, FONT_SIZE));
  const width = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.ceil(textWidth(text, FONT_SIZE) + symbolRoom + 2 * PADDING)));
  return { width, text };
}

function renderNode(node: GraphNode, b: Box, { x, y, width, height }: PlacedNode): string {
  const style = node.state === undefined ? undefined : stateStyle(node.state);
  const fill = style?.color ?? PLAIN_FILL;
  const ink = style?.ink ?? '#222222';
  const kind = node.kind ?? 'task';
  const shape =
    kind === 'dataset'
      ? cylinder(x, y, width, height, fill)
      : `<rect x="${n(x)}" y="${n(y)}" width="${n(width)}" height="${n(height)}" rx="6" fill="${fill}" stroke="#444444"/>`;
  // A cylinder's visible face starts below its top rim.
  const cy = kind === 'dataset' ? y + height / 2 + 3 : y + height / 2;
  // Symbol and label in one centred <text>, so no estimate of the label's width can misplace them.
  const symbol = style ? `<tspan class="symbol">${escXml(style.symbol)}</tspan> ` : '';
  const text = `<text class="label" x="${n(x + width / 2)}" y="${n(cy)}" dy="0.35em" text-anchor="middle" fill="${ink}">${symbol}${escXml(b.text)}</text>`;
  const tooltip = [node.label ?? node.id, node.label !== undefined && node.label !== node.id ? `(${node.id})` : '', style ? `— ${style.label}` : '']
    .filter(Boolean)
    .join(' ');
  const title = `<title>${escXml(node.detail ? `${tooltip}\n${node.detail}` : tooltip)}</title>`;
  const group =
    `<g class="node" data-task="${escXml(node.id)}"${node.state === undefined ? '' : ` data-state="${escXml(node.state)}"`} data-kind="${escXml(kind)}">` +
    `${title}${shape}${text}</g>`;
  const href = safeHref(node.href);
  return href === undefined ? group : `<a href="${escXml(href)}">${group}</a>`;
}

/** A dataset: a cylinder seen from the front, its top rim drawn over the body. */
function cylinder(x: number, y: number, width: number, height: number, fill: string): string {
  const rx = width / 2;
  const ry = 5;
  const top = y + ry;
  const bottom = y + height - ry;
  return (
    `<path d="M${n(x)},${n(top)} A${n(rx)},${ry} 0 0 1 ${n(x + width)},${n(top)} V${n(bottom)} A${n(rx)},${ry} 0 0 1 ${n(x)},${n(bottom)} Z" fill="${fill}" stroke="#444444"/>` +
    `<path d="M${n(x)},${n(top)} A${n(rx)},${ry} 0 0 0 ${n(x + width)},${n(top)}" fill="none" stroke="#444444"/>`
  );
}

/** Smooth S-curves through the points, leaving and entering every point horizontally. */
function curve(points: Array<[number, number]>): string {
  const [first, ...rest] = points;
  if (first === undefined) return '';
  let d = `M${n(first[0])},${n(first[1])}`;
  let [px, py] = first;
  for (const [x, y] of rest) {
    const mid = (px + x) / 2;
    d += ` C${n(mid)},${n(py)} ${n(mid)},${n(y)} ${n(x)},${n(y)}`;
    [px, py] = [x, y];
  }
  return d;
}
