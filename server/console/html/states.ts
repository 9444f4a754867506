/**
 * How every run and task state looks, in one place: a colour from the Okabe-Ito palette (told
 * apart by the common kinds of colour blindness) and, because colour alone is not enough, a
 * symbol and a word. Pages, SVG graphs and Gantt bars all draw states from here.
 */
export interface StateStyle {
  /** Fill colour. */
  color: string;
  /** Text colour on top of `color`. */
  ink: string;
  /** One character that tells the state without colour. */
  symbol: string;
  label: string;
}

const STYLES: Record<string, StateStyle> = {
  success: { color: '#009E73', ink: '#ffffff', symbol: '✓', label: 'success' },
  failed: { color: '#D55E00', ink: '#ffffff', symbol: '✗', label: 'failed' },
  upstream_failed: { color: '#CC79A7', ink: '#000000', symbol: '⊘', label: 'upstream failed' },
  awaiting_operator: { color: '#E69F00', ink: '#000000', symbol: '!', label: 'awaiting operator' },
  up_for_retry: { color: '#F0E442', ink: '#000000', symbol: '↻', label: 'up for retry' },
  running: { color: '#0072B2', ink: '#ffffff', symbol: '▶', label: 'running' },
  queued: { color: '#56B4E9', ink: '#000000', symbol: '…', label: 'queued' },
  pending: { color: '#ffffff', ink: '#333333', symbol: '○', label: 'pending' },
  skipped: { color: '#d9d9d9', ink: '#333333', symbol: '–', label: 'skipped' },
  duplicate: { color: '#d9d9d9', ink: '#333333', symbol: '=', label: 'duplicate' },
};

const UNKNOWN: StateStyle = { color: '#ffffff', ink: '#333333', symbol: '?', label: 'unknown' };

export function stateStyle(state: string | undefined): StateStyle {
  return (state !== undefined && STYLES[state]) || { ...UNKNOWN, label: state ?? UNKNOWN.label };
}

/** Every state with a style, in the order a legend lists them. */
export const KNOWN_STATES = Object.keys(STYLES);
