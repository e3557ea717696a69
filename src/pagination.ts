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

/** `PageInfo` for `edges` of a page fetched with one extra row (`hasMore`). */
export function pageInfo(edges: readonly { cursor: string }[], hasMore: boolean, hasPrevious: boolean): PageInfo {
  return {
    hasNextPage: hasMore,
    hasPreviousPage: hasPrevious,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges.at(-1)?.cursor ?? null,
  };
}
