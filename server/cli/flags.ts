/** Parsing of flags several commands share; every failure is a bad-input error naming the flag. */
import { LogicalDateError, parseDateArg, type DateArg } from '../client/logical-dates';
import { badInput } from './errors';

/** A date flag as typed: a bare day or an instant, resolved against a DAG by logical-dates.ts. */
export function dateFlag(flag: string, text: string): DateArg {
  return orBadInput(flag, () => parseDateArg(text));
}

/** Runs a logical-date rule, turning its refusal into bad input that names the flag. */
export function orBadInput<T>(flag: string, rule: () => T): T {
  try {
    return rule();
  } catch (err) {
    if (err instanceof LogicalDateError) throw badInput(`${flag}: ${err.message}`);
    throw err;
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
