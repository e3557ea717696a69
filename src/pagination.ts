import { badInput } from './errors.ts';

/** Relay `PageInfo` of a page. */
export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/**
 * Opaque cursors of one list: `base64url("<tag>:<position>")`, where the position is an
 * offset or a key (digits only). A cursor of another list, or garbage, is `BAD_USER_INPUT`
 * on the `after` argument.
 */
export function cursors(tag: string) {
  const pattern = new RegExp(`^${tag}:(\\d{1,19})$`);
  return {
    encode: (position: number | string) => Buffer.from(`${tag}:${position}`).toString('base64url'),
    decode(cursor: string): string {
      const match = pattern.exec(Buffer.from(cursor, 'base64url').toString());
      if (!match) throw badInput({ after: 'Not a cursor of this list.' });
      return match[1]!;
    },
  };
}

/**
 * Opaque keyset (seek) cursors of one list: `base64url(JSON [tag, order, values])`, where
 * `values` are the sort keys of the row the cursor points at (as PostgreSQL text, null kept)
 * and `order` names the sort the list was read in. A page after a cursor starts right after
 * that row's keys, whatever was inserted or deleted since, and costs what the first page costs.
 * A cursor of another list or sort, or garbage, is `BAD_USER_INPUT` on the `after` argument.
 */
export function keysetCursors(tag: string) {
  return {
    encode: (order: string, values: readonly (string | null)[]) => Buffer.from(JSON.stringify([tag, order, values])).toString('base64url'),
    /** The `count` key values of `cursor`, which must have been made for `order`. */
    decode(cursor: string, order: string, count: number): (string | null)[] {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
      } catch {
        parsed = null;
      }
      if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== tag) throw badInput({ after: 'Not a cursor of this list.' });
      const [, madeFor, values] = parsed as [string, unknown, unknown];
      if (madeFor !== order) throw badInput({ after: 'This cursor was made for another order of this list.' });
      if (!Array.isArray(values) || values.length !== count || values.some((v) => v !== null && (typeof v !== 'string' || v.length > 1000))) {
        throw badInput({ after: 'Not a cursor of this list.' });
      }
      return values as (string | null)[];
    },
  };
}

/** `PageInfo` for `edges` of a page fetched with one extra row (`hasMore`). */
export function pageInfo(edges: readonly { cursor: string }[], hasMore: boolean, hasPrevious: boolean): PageInfo {
  return {
    hasNextPage: hasMore,
    hasPreviousPage: hasPrevious,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges.at(-1)?.cursor ?? null,
  };
}
