import { createHash } from 'node:crypto';
import type { DagSpec } from '../../workflows/spec';

/**
 * JSON with object keys sorted at every depth and `undefined` members dropped, so two specs that
 * differ only in key order serialize identically.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member);
  }
  return sorted;
}

/** The DAG version: the first 12 hex chars of the sha256 of the canonical spec without `version`. */
export function specVersion(spec: Omit<DagSpec, 'version'> & { version?: string }): string {
  const { version: _ignored, ...rest } = spec;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 12);
}
