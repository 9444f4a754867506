/**
 * The six categories of `ops.exceptions` (CONTRACTS.md, "Data layout"): why a record was
 * quarantined. Validation, quality checks and the demo seed's answer key all use this list.
 */
export const EXCEPTION_CATEGORIES = [
  'MISSING_REQUIRED_FIELD',
  'DATA_FORMAT_ERROR',
  'BUSINESS_RULE_VIOLATION',
  'DUPLICATE_RECORD',
  'REFERENTIAL_INTEGRITY',
  'FILE_UNREADABLE',
] as const;

export type ExceptionCategory = (typeof EXCEPTION_CATEGORIES)[number];
