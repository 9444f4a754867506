/**
 * A small SQL builder for the quality compiler: a fragment is text with `?` placeholders plus its
 * values in order, so a value can only ever become a bound parameter. Identifiers are the one
 * thing spliced into the text, and only after `ident` has refused anything but a plain name.
 */

export type SqlValue = string | number | boolean;

export class Sql {
  constructor(
    readonly text: string,
    readonly values: readonly SqlValue[],
  ) {}
}

/** `sql\`a = ${1}\``: interpolated fragments are spliced in, any other value is bound as `?`. */
export function sql(strings: TemplateStringsArray, ...parts: ReadonlyArray<Sql | SqlValue>): Sql {
  let text = strings[0] ?? '';
  const values: SqlValue[] = [];
  parts.forEach((part, i) => {
    if (part instanceof Sql) {
      text += part.text;
      values.push(...part.values);
    } else {
      text += '?';
      values.push(part);
    }
    text += strings[i + 1] ?? '';
  });
  return new Sql(text, values);
}

export function join(fragments: readonly Sql[], separator: string): Sql {
  return new Sql(fragments.map((f) => f.text).join(separator), fragments.flatMap((f) => f.values));
}

/** Raw text the compiler itself chose (an operator from a fixed list, a keyword); never user input. */
export const keyword = (text: string): Sql => new Sql(text, []);

/** A plain identifier: what `ident` accepts, and what the suite schema checks first. */
export const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Postgres truncates longer identifiers, which would silently name another column. */
export const MAX_NAME_BYTES = 63;

/**
 * A quoted identifier (`"name"`), or with `qualifier` a qualified one (`"t"."name"`). Refuses
 * anything but letters, digits and `_`: a column name with a quote or a space in a suite is a
 * mistake (or an attack), and failing names it better than escaping would.
 * @throws Error naming the identifier.
 */
export function ident(name: string, qualifier?: string): Sql {
  if (!NAME.test(name) || name.length > MAX_NAME_BYTES) {
    throw new Error(`invalid identifier ${JSON.stringify(name)}: use letters, digits and _ (at most ${MAX_NAME_BYTES})`);
  }
  return new Sql(qualifier === undefined ? `"${name}"` : `${ident(qualifier).text}."${name}"`, []);
}

/** A `schema.table` name, each part checked by {@link ident}. */
export function tableName(qualified: string): Sql {
  const parts = qualified.split('.');
  if (parts.length !== 2) throw new Error(`invalid table ${JSON.stringify(qualified)}: write it as schema.table`);
  const [schema, table] = parts as [string, string];
  return ident(table, schema);
}
