/**
 * Named connection URIs and variables, Airflow-style, from the environment
 * (`SLUICE_CONN_<NAME>`, `SLUICE_VAR_<NAME>`) and from the secrets file (`SLUICE_SECRETS_FILE`,
 * default `<SLUICE_HOME>/secrets.json`). The environment wins, so a deployment can override one
 * entry of a shared file. Errors name the variable or file key and never echo a value:
 * connection URIs carry passwords.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config';

export type SettingSource = 'env' | 'file';

/** One named value and where it came from. */
export interface Setting {
  name: string;
  value: string;
  source: SettingSource;
  /** The env variable or file key that set it, for messages: `SLUICE_CONN_CRM`, `/path/secrets.json: connections.crm`. */
  origin: string;
}

export interface SecretSettings {
  /** The secrets file consulted, and whether it exists. */
  file: { path: string; found: boolean };
  connections: Setting[];
  variables: Setting[];
}

type Section = 'connections' | 'variables';
const ENV_PREFIX: Record<Section, string> = { connections: 'SLUICE_CONN_', variables: 'SLUICE_VAR_' };
const NAME = /^[a-z][a-z0-9_]*$/;
const NAME_RULE = 'a name must start with a letter and hold only letters, digits and _';

const fileSchema = z.strictObject(
  {
    connections: z.record(z.string(), z.string({ error: 'must be a URI string' }), { error: 'must be an object of name: URI' }).optional(),
    // Any JSON: a non-string value is kept as its JSON text, for `ctx.vars.json()`.
    variables: z.record(z.string(), z.json({ error: 'must be a JSON value' }), { error: 'must be an object of name: value' }).optional(),
  },
  { error: 'must be a JSON object with "connections" and/or "variables"' },
);

/**
 * Reads every named connection URI and variable.
 * @throws ConfigError naming each bad env variable or file key (never its value).
 */
export function readSecretSettings(env: NodeJS.ProcessEnv, home: string): SecretSettings {
  const problems: string[] = [];
  const explicitFile = env.SLUICE_SECRETS_FILE || undefined;
  const file = path.resolve(explicitFile ?? path.join(home, 'secrets.json'));
  const fromFile = readFile(file, explicitFile !== undefined, problems);
  const settings = (section: Section) => merge(fromEnv(env, section, problems), fromSection(fromFile.data?.[section], section, file, problems));
  const result = {
    file: { path: file, found: fromFile.found },
    connections: settings('connections'),
    variables: settings('variables'),
  };
  if (problems.length > 0) throw new ConfigError(`Invalid connections or variables:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return result;
}

function readFile(file: string, explicit: boolean, problems: string[]): { found: boolean; data?: z.infer<typeof fileSchema> } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Only a file someone named must exist; the default location is optional.
    if (code !== 'ENOENT' || explicit) problems.push(`SLUICE_SECRETS_FILE: cannot read ${file} (${String(code)})`);
    return { found: false };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text around the error, which may be a password.
    problems.push(`${file}: not valid JSON`);
    return { found: true };
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    return { found: true };
  }
  return { found: true, data: parsed.data };
}

function fromEnv(env: NodeJS.ProcessEnv, section: Section, problems: string[]): Setting[] {
  const prefix = ENV_PREFIX[section];
  const found = new Map<string, Setting>();
  for (const [key, value] of Object.entries(env)) {
    // An empty variable means unset, as everywhere in Sluice's configuration.
    if (!key.startsWith(prefix) || value === undefined || value === '') continue;
    const name = key.slice(prefix.length).toLowerCase();
    if (!NAME.test(name)) {
      problems.push(`${key}: ${NAME_RULE} (after ${prefix})`);
      continue;
    }
    const other = found.get(name);
    if (other) {
      problems.push(`${other.origin} and ${key} both set '${name}'; keep one`);
      continue;
    }
    found.set(name, { name, value, source: 'env', origin: key });
  }
  return [...found.values()];
}

function fromSection(entries: Record<string, unknown> | undefined, section: Section, file: string, problems: string[]): Setting[] {
  return Object.entries(entries ?? {}).flatMap(([name, value]): Setting[] => {
    const origin = `${file}: ${section}.${name}`;
    if (!NAME.test(name)) {
      problems.push(`${origin}: ${NAME_RULE} (lower case)`);
      return [];
    }
    return [{ name, value: typeof value === 'string' ? value : JSON.stringify(value), source: 'file', origin }];
  });
}

/** The environment's settings, then the file's for names the environment does not set. */
function merge(env: Setting[], file: Setting[]): Setting[] {
  const names = new Set(env.map((s) => s.name));
  return [...env, ...file.filter((s) => !names.has(s.name))].sort((a, b) => a.name.localeCompare(b.name));
}
