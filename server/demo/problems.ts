/**
 * The problems the seed injects on purpose, at the design's rates, and how many of each a day gets.
 * Every affected record carries exactly one problem, so each maps to one exception category.
 */
import type { ExceptionCategory } from './manifest';

export interface ProblemKind {
  kind: string;
  category: ExceptionCategory;
  /** Share of the records it applies to. */
  rate: number;
}

/** Problems of partner rows, each on its own share of a day's rows (duplicates are extra lines). */
export const PARTNER_ROW_PROBLEMS = [
  { kind: 'missing_date', category: 'MISSING_REQUIRED_FIELD', rate: 0.05 },
  { kind: 'negative_revenue', category: 'BUSINESS_RULE_VIOLATION', rate: 0.015 },
  { kind: 'bad_quantity', category: 'BUSINESS_RULE_VIOLATION', rate: 0.01 },
  { kind: 'unknown_region', category: 'BUSINESS_RULE_VIOLATION', rate: 0.005 },
  { kind: 'unknown_product', category: 'REFERENTIAL_INTEGRITY', rate: 0.005 },
  { kind: 'malformed_date', category: 'DATA_FORMAT_ERROR', rate: 0.005 },
  { kind: 'malformed_number', category: 'DATA_FORMAT_ERROR', rate: 0.005 },
] as const satisfies readonly ProblemKind[];

export type PartnerRowProblem = (typeof PARTNER_ROW_PROBLEMS)[number]['kind'];

/** An exact copy of a clean line, later in the same file; the later copy is the reject. */
export const PARTNER_DUPLICATE = { kind: 'duplicate_line', category: 'DUPLICATE_RECORD', rate: 0.02 } as const;
export const TRUNCATED_FILE = { kind: 'truncated_file', category: 'FILE_UNREADABLE' } as const;

/** A double-submitted checkout: the order and each of its copied items are duplicates. */
export const DUPLICATE_ORDER = { kind: 'duplicate_order', category: 'DUPLICATE_RECORD', rate: 0.02 } as const;
export const DUPLICATE_ORDER_ITEM = { kind: 'duplicate_order_item', category: 'DUPLICATE_RECORD' } as const;

/** Problems of order items, each on its own share of the items of orders that are not duplicated. */
export const ORDER_ITEM_PROBLEMS = [
  { kind: 'bad_quantity', category: 'BUSINESS_RULE_VIOLATION', rate: 0.01 },
  { kind: 'unknown_product', category: 'REFERENTIAL_INTEGRITY', rate: 0.005 },
] as const satisfies readonly ProblemKind[];

/** Extra items whose order_id matches no order. */
export const ORPHAN_ITEM = { kind: 'orphan_item', category: 'REFERENTIAL_INTEGRITY', rate: 0.005 } as const;

/**
 * How many of `n` records get a problem of this rate: the rounded share, but at least one while
 * there are records at all, so that even a small demo day shows every kind (at 100 partner rows
 * a 0.5% rate would otherwise round to none).
 */
export function problemCount(rate: number, n: number): number {
  if (n <= 0) return 0;
  return Math.min(n, Math.max(1, Math.round(rate * n)));
}

/** Product ids and SKUs from here on never exist (the catalog is capped well below). */
export const UNKNOWN_PRODUCT_ID_BASE = 900_000;
export const UNKNOWN_SKU_BASE = 90_000;
