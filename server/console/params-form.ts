/**
 * The trigger form of a DAG, generated from the params JSON Schema its spec records (zod 4's
 * `toJSONSchema(schema, { io: 'input' })`, see dags/sdk/params.ts), and the per-field errors it
 * shows. Pure. What the form sends is decided by `parseParams`, as for every other way to start a
 * run: the form only helps to fill it in.
 *
 * The HTML follows the console's conventions (console.js): inputs named after their param, with
 * `data-type` for what is not a string; an empty field is left out, so the param's default applies.
 */
import { paramIssues } from '../../dags/sdk/params';

export interface ParamField {
  name: string;
  /** The schema's `title` (zod `.meta({ title })`), else the param's name. */
  label: string;
  type: 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'date' | 'json';
  required: boolean;
  default?: unknown;
  /** For `enum`: the values to choose from. */
  options?: string[];
  description?: string;
  /** Inclusive bounds (an integer's exclusive bounds are turned into inclusive ones). */
  minimum?: number;
  maximum?: number;
  /** `multipleOf`, for number inputs. */
  step?: number;
  /** What to type, where the input type cannot say it (a date-time, JSON). */
  placeholder?: string;
}

type Schema = {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  properties?: Record<string, Schema>;
  required?: string[];
};

/** One field per param, in the schema's order. A schema without properties gives none. */
export function paramFields(jsonSchema: unknown): ParamField[] {
  const schema = asSchema(jsonSchema);
  const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
  return Object.entries(schema?.properties ?? {}).map(([name, raw]) => {
    const outer = asSchema(raw) ?? {};
    const prop = { ...unwrapNullable(outer), ...pick(outer, ['title', 'description', 'default']) };
    const field: ParamField = { name, label: typeof prop.title === 'string' && prop.title ? prop.title : name, ...kind(prop), required: required.has(name) };
    if ('default' in prop) field.default = prop.default;
    if (typeof prop.description === 'string' && prop.description) field.description = prop.description;
    return field;
  });
}

/** A field's type and what its input needs to know. */
function kind(prop: Schema): Pick<ParamField, 'type' | 'options' | 'minimum' | 'maximum' | 'step' | 'placeholder'> {
  const choices = options(prop);
  if (choices) return { type: 'enum', options: choices };
  const type = typeof prop.type === 'string' ? prop.type : undefined;
  if (type === 'string' && prop.format === 'date') return { type: 'date' };
  if (type === 'string' && prop.format === 'date-time') return { type: 'string', placeholder: '2026-11-30T04:00:00Z' };
  if (type === 'string') return { type: 'string' };
  if (type === 'boolean') return { type: 'boolean' };
  if (type === 'number' || type === 'integer') {
    const bounds: Pick<ParamField, 'minimum' | 'maximum' | 'step'> = {};
    const integer = type === 'integer';
    if (typeof prop.minimum === 'number') bounds.minimum = prop.minimum;
    else if (integer && typeof prop.exclusiveMinimum === 'number') bounds.minimum = Math.floor(prop.exclusiveMinimum) + 1;
    if (typeof prop.maximum === 'number') bounds.maximum = prop.maximum;
    else if (integer && typeof prop.exclusiveMaximum === 'number') bounds.maximum = Math.ceil(prop.exclusiveMaximum) - 1;
    if (typeof prop.multipleOf === 'number') bounds.step = prop.multipleOf;
    // zod's z.int() records the safe-integer range as bounds: no limit a person needs to see.
    if (bounds.minimum !== undefined && bounds.minimum <= Number.MIN_SAFE_INTEGER) delete bounds.minimum;
    if (bounds.maximum !== undefined && bounds.maximum >= Number.MAX_SAFE_INTEGER) delete bounds.maximum;
    return { type, ...bounds };
  }
  const what = type === 'array' ? 'a JSON list, e.g. ["a", "b"]' : type === 'object' ? 'a JSON object, e.g. {"key": 1}' : 'a JSON value';
  return { type: 'json', placeholder: what };
}

/** The string values of an enum, a const, or a union of them; undefined for anything else. */
function options(prop: Schema): string[] | undefined {
  const values = prop.enum ?? ('const' in prop ? [prop.const] : (prop.anyOf ?? prop.oneOf) ? alternatives(prop) : undefined);
  if (!values || values.length === 0 || !values.every((v) => typeof v === 'string')) return undefined;
  return [...new Set(values as string[])];
}

function alternatives(prop: Schema): unknown[] | undefined {
  const values: unknown[] = [];
  for (const option of prop.anyOf ?? prop.oneOf ?? []) {
    if (Array.isArray(option.enum)) values.push(...option.enum);
    else if ('const' in option) values.push(option.const);
    else return undefined;
  }
  return values;
}

/** `.nullable()` params: the form cannot send null, so it shows the non-null type. */
function unwrapNullable(prop: Schema): Schema {
  const isNull = (s: Schema) => s.type === 'null';
  const union = prop.anyOf ?? prop.oneOf;
  if (union) {
    const rest = union.filter((s) => !isNull(s));
    if (rest.length === 1) return { ...(rest[0] as Schema) };
    return { ...prop, ...(prop.anyOf ? { anyOf: rest } : { oneOf: rest }) };
  }
  if (Array.isArray(prop.type)) {
    const rest = prop.type.filter((t) => t !== 'null');
    // Several types (string or number): the field takes JSON, which says which one it is.
    return { ...prop, type: rest.length === 1 ? rest[0] : undefined };
  }
  return prop;
}

function asSchema(value: unknown): Schema | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Schema) : undefined;
}

function pick(schema: Schema, keys: Array<keyof Schema>): Schema {
  return Object.fromEntries(keys.filter((k) => k in schema).map((k) => [k, schema[k]]));
}

/**
 * The form's inputs, one per field, each with its label, help text and an empty error slot
 * (`[data-error-for="<param>"]`) that console.js fills from a 400 answer's `fields`. No inline
 * style or script: the console's CSP forbids them. `esc` HTML-escapes (layout.ts's `esc`).
 */
export function paramsFormHtml(fields: ParamField[], esc: (s: unknown) => string): string {
  return fields
    .map((field, i) => {
      const id = `param-${i}`;
      const help = field.description ? `<small class="help" id="${id}-help">${esc(field.description)}</small>` : '';
      const common = `id="${id}" name="${esc(field.name)}"${field.description ? ` aria-describedby="${id}-help"` : ''}`;
      const required = field.required ? ' required' : '';
      const label = esc(field.label);
      const error = `<small class="field-error" data-error-for="${esc(field.name)}" aria-live="polite"></small>`;
      // A checkbox always sends true or false, so it never needs `required` (which would mean "must be ticked").
      if (field.type === 'boolean') {
        return `<div class="field"><label class="check"><input type="checkbox" ${common} data-type="boolean"${field.default === true ? ' checked' : ''}> ${label}</label>${help}${error}</div>`;
      }
      return `<div class="field"><label for="${id}">${label}${input(field, common, required, esc)}</label>${help}${error}</div>`;
    })
    .join('\n');
}

function input(field: ParamField, common: string, required: string, esc: (s: unknown) => string): string {
  const placeholder = field.placeholder ? ` placeholder="${esc(field.placeholder)}"` : '';
  const value = field.default === undefined || field.default === null ? '' : ` value="${esc(field.default)}"`;
  switch (field.type) {
    case 'enum': {
      const hasDefault = field.default !== undefined && field.default !== null;
      const blank = hasDefault ? '' : `<option value="">${field.required ? '— choose —' : '(none)'}</option>`;
      const options = (field.options ?? []).map((o) => `<option value="${esc(o)}"${o === field.default ? ' selected' : ''}>${esc(o)}</option>`);
      return `<select ${common}${required}>${blank}${options.join('')}</select>`;
    }
    case 'number':
    case 'integer': {
      const bound = (attr: string, n: number | undefined) => (n === undefined ? '' : ` ${attr}="${n}"`);
      const step = field.step ?? (field.type === 'integer' ? 1 : 'any');
      return `<input type="number" ${common} data-type="${field.type}"${bound('min', field.minimum)}${bound('max', field.maximum)} step="${step}"${value}${required}>`;
    }
    case 'date':
      return `<input type="date" ${common}${value}${required}>`;
    case 'json': {
      const text = field.default === undefined ? '' : esc(JSON.stringify(field.default, null, 2));
      return `<textarea ${common} data-type="json" rows="3"${placeholder}${required}>${text}</textarea>`;
    }
    default:
      return `<input type="text" ${common}${placeholder}${value}${required}>`;
  }
}

/**
 * Checks a trigger's params as the run will (`parseParams` decides), and files each problem under
 * the param it concerns, unknown params included, for the form to show beside its field. A problem
 * deeper in a param (`window.days`) is filed under the param, naming the rest of its path. `error`
 * is parseParams' own text; the field messages are worded for a person filling in the form.
 */
export function paramErrors(
  jsonSchema: unknown,
  raw: unknown,
): { ok: true; params: Record<string, unknown> } | { ok: false; error: string; fields: Record<string, string> } {
  const result = paramIssues(jsonSchema, raw);
  if (result.ok) return result;
  const given = asSchema(raw) ?? {};
  const messages = new Map<string, string[]>();
  for (const issue of result.issues) {
    const [name, ...rest] = issue.path;
    if (name === undefined) continue;
    let message = issue.message;
    // A required param left out: say so first (zod words a missing enum as an invalid option).
    if (rest.length === 0 && (given as Record<string, unknown>)[name] === undefined && !message.startsWith('required') && !message.startsWith('unknown')) {
      message = `required (${message.replace(/^Invalid \w+: /, '')})`;
    }
    messages.set(name, [...(messages.get(name) ?? []), rest.length > 0 ? `${rest.join('.')}: ${message}` : message]);
  }
  const fields: Record<string, string> = {};
  for (const [name, list] of messages) {
    // A date's pattern (a page of regex) says nothing its format check has not said better.
    const readable = list.filter((m) => !PATTERN.test(m));
    const shown = readable.length > 0 ? readable : list.map((m) => (m.length > 120 ? 'does not have the expected format' : m));
    fields[name] = shown.join('; ');
  }
  return { ok: false, error: result.error, fields };
}

const PATTERN = /(^|: )Invalid string: must match pattern /;
