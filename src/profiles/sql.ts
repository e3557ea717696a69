/**
 * A piece of SQL and the values it binds, kept together from where it is built to where it
 * is executed (`em.execute(f.sql, [...f.params])`). Placeholders follow MikroORM's `raw()`
 * convention: `?` binds a value, `??` quotes an identifier; values are never written into
 * the text. Shaped like MikroORM's `RawQueryFragment` (`sql` + `params`).
 */
export interface Sql {
  readonly sql: string;
  readonly params: readonly unknown[];
}

function isSql(value: unknown): value is Sql {
  return typeof value === 'object' && value !== null && 'sql' in value && 'params' in value && Array.isArray((value as Sql).params);
}

/**
 * Tagged template building a fragment: an interpolated {@link Sql} is spliced in with its
 * values, anything else is bound as one value (`?`). `sql\`u.id = ${id}\``.
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  let text = strings[0]!;
  const params: unknown[] = [];
  values.forEach((value, i) => {
    if (isSql(value)) {
      text += value.sql;
      params.push(...value.params);
    } else {
      text += '?';
      params.push(value);
    }
    text += strings[i + 1]!;
  });
  return { sql: text, params };
}

/** Trusted SQL text with no values (keywords, fixed expressions written in this code base). */
export function rawSql(text: string): Sql {
  return { sql: text, params: [] };
}

/** A quoted, optionally qualified identifier: `ident('p', 'email')` → `"p"."email"`. */
export function ident(...names: string[]): Sql {
  return { sql: names.map(() => '??').join('.'), params: names };
}

/** Fragments joined by `separator`; an empty list gives `empty`. */
export function joinSql(parts: readonly Sql[], separator = ', ', empty = ''): Sql {
  if (parts.length === 0) return rawSql(empty);
  return { sql: parts.map((p) => p.sql).join(separator), params: parts.flatMap((p) => p.params) };
}

/** `(?, ?, …)`-style list of bound values, for `in (…)`. An empty list gives `(null)` (matches nothing). */
export function valueList(values: readonly unknown[]): Sql {
  if (values.length === 0) return rawSql('(null)');
  return { sql: `(${values.map(() => '?').join(', ')})`, params: values };
}
