import { Kind, type GraphQLResolveInfo, type SelectionNode } from 'graphql';
import { parseResolveInfo, type FieldsByTypeName, type ResolveTree } from 'graphql-parse-resolve-info';
import type { ProfileDefinition } from '../../profiles/model.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import { ident, joinSql, sql, type Sql } from '../../profiles/sql.ts';
import { rowOf, selectList } from '../../profiles/store.ts';
import type { ProfileLoaders } from '../../profiles/loaders.ts';

/**
 * A `User` field whose value one scalar SQL expression over `users u` gives (`followersCount`:
 * a counting subquery), so that a look-ahead can read it in the users' own statement and hand
 * it to the request's loaders instead of the field costing a statement of its own.
 */
export interface UserColumn<Loaders extends PrimeTargets = PrimeTargets> {
  /** A scalar expression over the row `u` of `users`. */
  select: Sql;
  /**
   * Hands the value read for `userId` to the loader the field's resolver reads. `loaders` is
   * the request's `RequestLoaders`; a module's column names the part it primes in `Loaders`.
   */
  prime(loaders: Loaders, userId: string, value: unknown): void;
}

/** The request's loaders a look-ahead primes (the whole `RequestLoaders` is handed in). */
export interface PrimeTargets {
  profiles: ProfileLoaders;
}

/** What a `User` selection reads beyond the user's own row: profiles and look-ahead columns. */
export interface ReadPlan {
  profiles: readonly ProfileDefinition[];
  columns: readonly (readonly [name: string, column: UserColumn])[];
}

/** A plan to read with a query, and the request's loaders to prime with what it read. */
export interface Lookahead {
  plan: ReadPlan;
  loaders: PrimeTargets;
}

export const EMPTY_PLAN: ReadPlan = { profiles: [], columns: [] };

/**
 * Decides from a resolver's selection what to read beside the users it returns (look-ahead):
 * the profiles its `User.<profile>` fields and the definers of its literal `data`/`dataAll`
 * keys need, and the {@link UserColumn}s it selects (fragments and aliases included;
 * graphql-parse-resolve-info walks the selection). Built once by the composition root with the
 * columns the modules contribute.
 */
export class UserReadPlanner {
  constructor(
    private readonly registry: ProfileRegistry,
    private readonly columns: Readonly<Record<string, UserColumn>>,
  ) {}

  /**
   * The plan of the `User` reached from the resolved field by `path`, which names the fields
   * from there down to the `User` (e.g. `['UserConnection.edges', 'UserEdge.node']` for a
   * connection); an empty path means the field returns users itself.
   */
  plan(info: GraphQLResolveInfo, path: readonly string[] = []): ReadPlan {
    const parsed = parseResolveInfo(info) as ResolveTree | null;
    if (!parsed) return EMPTY_PLAN;
    let fields: FieldsByTypeName = parsed.fieldsByTypeName;
    for (const step of path) {
      const [type, field] = step.split('.') as [string, string];
      const next = Object.values(fields[type] ?? {}).find((f) => f.name === field);
      if (!next) return EMPTY_PLAN;
      fields = next.fieldsByTypeName;
    }
    const profiles = new Set<ProfileDefinition>();
    const columns = new Map<string, UserColumn>();
    for (const field of Object.values(fields.User ?? {})) {
      const profile = this.registry.get(field.name);
      if (profile) profiles.add(profile);
      const column = this.columns[field.name];
      if (column) columns.set(field.name, column);
      if ((field.name === 'data' || field.name === 'dataAll') && typeof field.args.key === 'string') {
        try {
          const definers = field.name === 'data' ? [this.registry.resolveForRead(field.args.key)] : this.registry.candidates(field.args.key);
          for (const d of definers) profiles.add(d.profile);
        } catch {
          // An unknown or ambiguous key fails in its own resolver, with its own error.
        }
      }
    }
    return { profiles: [...profiles], columns: [...columns] };
  }
}

/** A string naming what `plan` reads, equal for equal plans (to group loads by plan). */
export function planKey(plan: ReadPlan): string {
  return [...plan.profiles.map((p) => p.name).sort(), '/', ...plan.columns.map(([name]) => name).sort()].join(',');
}

/**
 * Select-list and join pieces reading `lookahead`'s plan beside users aliased `u` (profiles as
 * `l_<name>` with columns prefixed `<name>__`, columns as `c__<field>`), and `prime(row)`
 * handing each found profile row and each column value to the loaders. A missing profile row
 * is not primed: the loader then creates it lazily, batched, as usual.
 */
export function joinedReads(lookahead: Lookahead | undefined): { select: Sql; from: Sql; prime(row: Record<string, unknown>): void } {
  const { profiles, columns } = lookahead?.plan ?? EMPTY_PLAN;
  return {
    select: joinSql(
      [
        ...profiles.map((p) => sql`, ${selectList(p, `l_${p.name}`, `${p.name}__`)}`),
        ...columns.map(([name, column]) => sql`, ${column.select} as ${ident(`c__${name}`)}`),
      ],
      '',
    ),
    from: joinSql(
      profiles.map((p) => sql` left join ${ident(p.table)} as ${ident(`l_${p.name}`)} on ${ident(`l_${p.name}`, 'user_id')} = u.id`),
      '',
    ),
    prime(row) {
      if (!lookahead) return;
      const userId = String(row.id);
      for (const p of profiles) {
        const found = rowOf(p, row, `${p.name}__`);
        if (found) lookahead.loaders.profiles.prime(p.name, userId, found);
      }
      for (const [name, column] of columns) column.prime(lookahead.loaders, userId, row[`c__${name}`]);
    },
  };
}

/** Whether the selection of a `users` field asks for `totalCount` (the count costs a statement). */
export function wantsTotalCount(info: GraphQLResolveInfo): boolean {
  const seen = new Set<string>();
  const visit = (selections: readonly SelectionNode[]): boolean =>
    selections.some((s) => {
      if (s.kind === Kind.FIELD) return s.name.value === 'totalCount';
      if (s.kind === Kind.INLINE_FRAGMENT) return visit(s.selectionSet.selections);
      if (seen.has(s.name.value)) return false;
      seen.add(s.name.value);
      const fragment = info.fragments[s.name.value];
      return fragment ? visit(fragment.selectionSet.selections) : false;
    });
  return info.fieldNodes.some((node) => visit(node.selectionSet?.selections ?? []));
}
