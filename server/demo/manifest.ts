/**
 * What a seed wrote, and every problem it injected on purpose: the answer key that daily_etl's
 * quarantine (ops.exceptions) and its tests are checked against.
 */
import { EXCEPTION_CATEGORIES, type ExceptionCategory } from '../../activities/lib/exception-categories';

export { EXCEPTION_CATEGORIES, type ExceptionCategory };

export type PartnerFileFormat = 'csv' | 'csv.gz' | 'ndjson';

export interface SeededFile {
  key: string;
  format: PartnerFileFormat;
  /** Complete records a reader can recover (all of them, but in the truncated file). */
  rows: number;
}

export interface SeededDay {
  day: string;
  customersNew: number;
  customersChanged: number;
  productsChanged: number;
  orders: number;
  orderItems: number;
  events: number;
  /** Partner records a reader can recover over all the day's files (the sum of `files[].rows`). */
  partnerRows: number;
  files: SeededFile[];
}

export interface SeededProblem {
  day: string;
  category: ExceptionCategory;
  /** e.g. 'missing_date', 'duplicate_order' */
  kind: string;
  source: 'shop.orders' | 'shop.order_items' | 'partner_sales';
  /** shop rows: order_id / order_item_id as text */
  sourceId?: string;
  /** partner rows and files: the object key and the 1-based line the record starts on */
  file?: string;
  line?: number;
  detail: string;
}

export interface SeedManifest {
  seed: number;
  start: string;
  days: number;
  ordersPerDay: number;
  bucket: string;
  perDay: SeededDay[];
  problems: SeededProblem[];
  totals: { problems: number; byCategory: Record<ExceptionCategory, number> };
}

export function totals(problems: readonly SeededProblem[]): SeedManifest['totals'] {
  const byCategory = Object.fromEntries(EXCEPTION_CATEGORIES.map((c) => [c, 0])) as Record<ExceptionCategory, number>;
  for (const p of problems) byCategory[p.category]++;
  return { problems: problems.length, byCategory };
}
