/** Parsing of flags several commands share; every failure is a bad-input error naming the flag. */
import { parseLogicalDate } from '../client/run-id';
import { badInput } from './errors';

export function dateFlag(flag: string, text: string): Date {
  try {
    return parseLogicalDate(text);
  } catch (err) {
    throw badInput(`${flag}: ${(err as Error).message}`);
  }
}

/** `--conf`: run params as a JSON object (checked against the DAG's schema by the caller). */
export function confFlag(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw badInput(`--conf is not valid JSON: ${text}`);
  }
}

export function positiveIntFlag(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw badInput(`${flag} must be a positive whole number`);
  return n;
}
