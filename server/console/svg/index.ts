/** Pure SVG renderers for the console: strings in, strings out, safe under its strict CSP. */
export { barChartSvg, lineChartSvg, SERIES_COLORS, type BarChartInput, type LineChartInput, type LinePoint } from './charts';
export { dagGraphSvg, type DagGraphInput, type GraphNode } from './dag-graph';
export { layeredLayout, type Layout, type LayoutEdge, type LayoutNode, type LayoutOptions, type PlacedEdge, type PlacedNode } from './dag-layout';
export { ganttSvg, type GanttBar, type GanttInput, type GanttRow } from './gantt';
export { escXml } from './xml';
