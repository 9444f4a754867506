/** Parsing of flags several commands share; every failure is a bad-input error naming the flag. */
import { readFileSync } from 'node:fs';
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

/**
 * `--conf`: run params as a JSON object, or `@<file>` for a file that holds one (checked against
 * the DAG's schema by the caller).
 */
export function confFlag(text: string | undefined): unknown {
  if (text === undefined) return {};
  if (!text.startsWith('@')) {
    try {
      return JSON.parse(text);
    } catch {
      throw badInput(`--conf is not valid JSON: ${text}`);
    }
  }
  const file = text.slice(1);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw badInput(`--conf ${text}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(content);
  } catch (err) {
    throw badInput(`--conf ${text}: ${file} is not valid JSON (${(err as Error).message})`);
  }
}

export function positiveIntFlag(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw badInput(`${flag} must be a positive whole number`);
  return n;
}
