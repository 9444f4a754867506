/**
 * Layered ("Sugiyama") layout of a DAG, drawn left to right, for the console's graph views.
 *
 * 1. Cycles are broken by turning DFS back edges around (a DAG should have none, but a drawing
 *    must never hang on bad data); such edges are still drawn, just pointing backwards.
 * 2. A node's layer is its longest path from a source, so every edge points rightwards.
 * 3. Edges that span several layers get an invisible waypoint in each layer they cross, so the
 *    ordering treats them like nodes and they are routed around, not through, the boxes.
 * 4. Within a layer, nodes are ordered by barycenter sweeps (each node moves to the mean position
 *    of its neighbours in the layer before, then after), keeping the order with fewest crossings.
 * 5. Vertical positions: each node is pulled towards its neighbours' mean height, subject to the
 *    layer's order and spacing (solved exactly per layer by isotonic regression).
 *
 * Everything is deterministic (input order breaks ties) and about O(layers × (nodes + waypoints)).
 */

export interface LayoutNode {
  id: string;
  /** Box width; `defaultWidth` when absent. */
  width?: number;
}

export interface LayoutEdge {
  from: string;
  to: string;
}

export interface LayoutOptions {
  defaultWidth?: number;
  nodeHeight?: number;
  /** Horizontal room between layers, where the edges run. */
  layerGap?: number;
  /** Vertical room between the boxes of one layer. */
  nodeGap?: number;
  /** Empty border around the drawing. */
  margin?: number;
  /** Ordering sweeps, alternately downstream and upstream. */
  sweeps?: number;
}

export interface PlacedNode {
  id: string;
  /** Column, from 0 at the left. */
  layer: number;
  /** Position within the layer, from 0 at the top. */
  order: number;
  /** Top left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** From the middle of the source's side to the middle of the target's, via one or two points per crossed layer. */
  points: Array<[number, number]>;
}

export interface Layout {
  /** In input order, without duplicate ids. */
  nodes: PlacedNode[];
  /** In input order, without duplicates, self-loops and edges to unknown ids. */
  edges: PlacedEdge[];
  width: number;
  height: number;
}

const DEFAULTS: Required<LayoutOptions> = { defaultWidth: 160, nodeHeight: 36, layerGap: 56, nodeGap: 18, margin: 8, sweeps: 8 };

/** A real node (the first `nodes.length` items) or a waypoint of a long edge (height 0). */
interface Item {
  layer: number;
  width: number;
  height: number;
  preds: number[];
  succs: number[];
}

export function layeredLayout(nodes: readonly LayoutNode[], edges: readonly LayoutEdge[], options: LayoutOptions = {}): Layout {
  const opts = { ...DEFAULTS, ...options };
  const index = new Map<string, number>();
  const unique: LayoutNode[] = [];
  for (const node of nodes) {
    if (index.has(node.id)) continue;
    index.set(node.id, unique.length);
    unique.push(node);
  }
  const links = uniqueLinks(edges, index);
  const back = backEdges(unique.length, links);
  // Layout works on the acyclic orientation; back edges are turned around again when drawn.
  const oriented = links.map(([from, to], i) => (back.has(i) ? [to, from] : [from, to]) as [number, number]);
  const layerOf = longestPathLayers(unique.length, oriented);

  const items: Item[] = unique.map((node, i) => ({
    layer: layerOf[i] ?? 0,
    width: node.width ?? opts.defaultWidth,
    height: opts.nodeHeight,
    preds: [],
    succs: [],
  }));
  const chains = oriented.map(([from, to]) => {
    const chain = [from];
    for (let layer = item(items, from).layer + 1; layer < item(items, to).layer; layer++) {
      chain.push(items.push({ layer, width: 0, height: 0, preds: [], succs: [] }) - 1);
    }
    chain.push(to);
    for (let i = 1; i < chain.length; i++) {
      item(items, at(chain, i - 1)).succs.push(at(chain, i));
      item(items, at(chain, i)).preds.push(at(chain, i - 1));
    }
    return chain;
  });

  const layerCount = unique.length === 0 ? 0 : Math.max(...layerOf) + 1;
  const layers: number[][] = Array.from({ length: layerCount }, () => []);
  items.forEach((it, i) => at(layers, it.layer).push(i));
  const ordered = orderLayers(layers, items, opts.sweeps);
  const centers = placeVertically(ordered, items, opts.nodeGap);

  // Columns are as wide as their widest box; boxes are centred in them.
  const columnX: number[] = [];
  const columnWidth = ordered.map((layer) => Math.max(0, ...layer.map((i) => item(items, i).width)));
  let x = opts.margin;
  for (const width of columnWidth) {
    columnX.push(x);
    x += width + opts.layerGap;
  }
  let top = Infinity;
  let bottom = -Infinity;
  items.forEach((it, i) => {
    top = Math.min(top, at(centers, i) - it.height / 2);
    bottom = Math.max(bottom, at(centers, i) + it.height / 2);
  });
  const shift = unique.length === 0 ? 0 : opts.margin - top;
  const cy = (i: number) => at(centers, i) + shift;
  const left = (i: number) => at(columnX, item(items, i).layer) + (at(columnWidth, item(items, i).layer) - item(items, i).width) / 2;

  const orderOf = new Map<number, number>();
  for (const layer of ordered) layer.filter((i) => i < unique.length).forEach((i, order) => orderOf.set(i, order));

  const placed = unique.map((node, i): PlacedNode => {
    const it = item(items, i);
    return { id: node.id, layer: it.layer, order: orderOf.get(i) ?? 0, x: left(i), y: cy(i) - it.height / 2, width: it.width, height: it.height };
  });
  const placedEdges = links.map(([from, to], e): PlacedEdge => {
    const chain = at(chains, e);
    const first = at(chain, 0);
    const last = at(chain, chain.length - 1);
    const points: Array<[number, number]> = [[left(first) + item(items, first).width, cy(first)]];
    for (const waypoint of chain.slice(1, -1)) {
      const layer = item(items, waypoint).layer;
      points.push([at(columnX, layer), cy(waypoint)], [at(columnX, layer) + at(columnWidth, layer), cy(waypoint)]);
    }
    points.push([left(last), cy(last)]);
    if (back.has(e)) points.reverse();
    return { from: at(unique, from).id, to: at(unique, to).id, points };
  });

  const lastColumn = columnX.length - 1;
  return {
    nodes: placed,
    edges: placedEdges,
    width: lastColumn < 0 ? 2 * opts.margin : at(columnX, lastColumn) + at(columnWidth, lastColumn) + opts.margin,
    height: unique.length === 0 ? 2 * opts.margin : bottom + shift + opts.margin,
  };
}

/** Edges as index pairs, without unknown ends, self-loops and repeats. */
function uniqueLinks(edges: readonly LayoutEdge[], index: Map<string, number>): Array<[number, number]> {
  const seen = new Set<string>();
  const links: Array<[number, number]> = [];
  for (const edge of edges) {
    const from = index.get(edge.from);
    const to = index.get(edge.to);
    if (from === undefined || to === undefined || from === to || seen.has(`${from} ${to}`)) continue;
    seen.add(`${from} ${to}`);
    links.push([from, to]);
  }
  return links;
}

/** Indexes of the links a depth-first search finds going back to a node on its stack. */
function backEdges(count: number, links: Array<[number, number]>): Set<number> {
  const out: number[][] = Array.from({ length: count }, () => []);
  links.forEach(([from], i) => at(out, from).push(i));
  const state = new Uint8Array(count); // 0 unseen, 1 on the stack, 2 done
  const back = new Set<number>();
  for (let root = 0; root < count; root++) {
    if (state[root] !== 0) continue;
    // Iterative, so a long chain cannot overflow the call stack.
    const stack: Array<[node: number, next: number]> = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const frame = at(stack, stack.length - 1);
      const [node, next] = frame;
      const linkIndex = at(out, node)[next];
      if (linkIndex === undefined) {
        state[node] = 2;
        stack.pop();
        continue;
      }
      frame[1] = next + 1;
      const target = at(links, linkIndex)[1];
      if (state[target] === 1) back.add(linkIndex);
      else if (state[target] === 0) {
        state[target] = 1;
        stack.push([target, 0]);
      }
    }
  }
  return back;
}

/** Layer of each node: the longest path to it from a node without predecessors (Kahn's order). */
function longestPathLayers(count: number, links: Array<[number, number]>): number[] {
  const out: number[][] = Array.from({ length: count }, () => []);
  const inDegree = new Array<number>(count).fill(0);
  for (const [from, to] of links) {
    at(out, from).push(to);
    inDegree[to] = (inDegree[to] ?? 0) + 1;
  }
  const layer = new Array<number>(count).fill(0);
  const queue: number[] = [];
  inDegree.forEach((d, i) => d === 0 && queue.push(i));
  for (let head = 0; head < queue.length; head++) {
    const node = at(queue, head);
    for (const to of at(out, node)) {
      layer[to] = Math.max(at(layer, to), at(layer, node) + 1);
      inDegree[to] = at(inDegree, to) - 1;
      if (inDegree[to] === 0) queue.push(to);
    }
  }
  return layer;
}

/** Barycenter sweeps; returns the layers in the order with the fewest crossings seen. */
function orderLayers(layers: number[][], items: Item[], sweeps: number): number[][] {
  const pos = new Float64Array(items.length);
  const key = new Float64Array(items.length);
  const renumber = (layer: number[]) => layer.forEach((it, i) => (pos[it] = i));
  layers.forEach(renumber);
  let best = layers.map((l) => l.slice());
  let fewest = crossings(layers, items, pos);
  for (let sweep = 0; sweep < sweeps && fewest > 0; sweep++) {
    const down = sweep % 2 === 0;
    for (let k = 1; k < layers.length; k++) {
      const layer = at(layers, down ? k : layers.length - 1 - k);
      for (const it of layer) {
        const neighbours = down ? item(items, it).preds : item(items, it).succs;
        // A node with no neighbours on that side keeps its place.
        key[it] = neighbours.length === 0 ? at(pos, it) : neighbours.reduce((sum, nb) => sum + at(pos, nb), 0) / neighbours.length;
      }
      // Array.prototype.sort is stable: ties keep their current order.
      layer.sort((a, b) => at(key, a) - at(key, b));
      renumber(layer);
    }
    const count = crossings(layers, items, pos);
    if (count < fewest) {
      fewest = count;
      best = layers.map((l) => l.slice());
    }
  }
  return best;
}

/** Edge crossings between all adjacent layers: inversions of the targets' positions, counted with a Fenwick tree. */
function crossings(layers: number[][], items: Item[], pos: Float64Array): number {
  let total = 0;
  for (let k = 0; k + 1 < layers.length; k++) {
    const size = at(layers, k + 1).length;
    const tree = new Int32Array(size + 1);
    let seen = 0;
    for (const it of at(layers, k)) {
      const targets = item(items, it).succs.map((s) => at(pos, s)).sort((a, b) => a - b);
      for (const target of targets) {
        let notAfter = 0;
        for (let i = target + 1; i > 0; i -= i & -i) notAfter += at(tree, i);
        total += seen - notAfter;
        for (let i = target + 1; i <= size; i += i & -i) tree[i] = at(tree, i) + 1;
        seen += 1;
      }
    }
  }
  return total;
}

/**
 * Centre height of every item. A few passes pull each layer towards its neighbours (downstream
 * passes towards predecessors, upstream towards successors, the last towards both).
 */
function placeVertically(layers: number[][], items: Item[], nodeGap: number): number[] {
  const center = new Array<number>(items.length).fill(0);
  const gaps = (layer: number[]) =>
    layer.slice(1).map((it, i) => {
      const prev = item(items, at(layer, i));
      const cur = item(items, it);
      // Waypoints need less room than boxes: edges may run closer together than nodes.
      const gap = prev.height > 0 && cur.height > 0 ? nodeGap : nodeGap / 2;
      return (prev.height + cur.height) / 2 + gap;
    });
  for (const layer of layers) {
    const sep = gaps(layer);
    layer.forEach((it, i) => (center[it] = i === 0 ? 0 : at(center, at(layer, i - 1)) + at(sep, i - 1)));
  }
  const pass = (order: number[], side: (it: Item) => number[]) => {
    for (const k of order) {
      const layer = at(layers, k);
      const desired = layer.map((it) => {
        const neighbours = side(item(items, it));
        return neighbours.length === 0 ? at(center, it) : neighbours.reduce((sum, nb) => sum + at(center, nb), 0) / neighbours.length;
      });
      isotonicPlace(desired, gaps(layer)).forEach((y, i) => (center[at(layer, i)] = y));
    }
  };
  const downstream = layers.map((_, k) => k);
  const upstream = downstream.slice().reverse();
  for (let round = 0; round < 3; round++) {
    pass(downstream, (it) => it.preds);
    pass(upstream, (it) => it.succs);
  }
  pass(downstream, (it) => [...it.preds, ...it.succs]);
  return center;
}

/**
 * Positions closest (least squares) to `desired` that keep the order and at least `sep[i]` between
 * item i and i+1. Subtracting the cumulative separation turns this into a non-decreasing fit,
 * which pool-adjacent-violators solves in linear time.
 */
function isotonicPlace(desired: number[], sep: number[]): number[] {
  const offset = [0];
  sep.forEach((s, i) => offset.push(at(offset, i) + s));
  const blocks: Array<{ sum: number; count: number }> = [];
  desired.forEach((d, i) => {
    blocks.push({ sum: d - at(offset, i), count: 1 });
    while (blocks.length > 1) {
      const last = at(blocks, blocks.length - 1);
      const prev = at(blocks, blocks.length - 2);
      if (prev.sum / prev.count <= last.sum / last.count) break;
      prev.sum += last.sum;
      prev.count += last.count;
      blocks.pop();
    }
  });
  const result: number[] = [];
  for (const block of blocks) for (let k = 0; k < block.count; k++) result.push(block.sum / block.count + at(offset, result.length));
  return result;
}

/** Indexing that the checker trusts: every index here is in range by construction. */
function at<T>(list: ArrayLike<T>, i: number): T {
  return list[i] as T;
}

function item(items: Item[], i: number): Item {
  return at(items, i);
}
