import { Kind, type GraphQLResolveInfo, type SelectionNode } from 'graphql';
import { parseResolveInfo, type FieldsByTypeName, type ResolveTree } from 'graphql-parse-resolve-info';
import type { ProfileDefinition } from '../../profiles/model.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';

/**
 * The profiles a `User` selection will read: `User.<profile>` fields and the definers of
 * literal `data`/`dataAll` keys (fragments and aliases included; graphql-parse-resolve-info
 * walks the selection). `path` names the fields from the resolved field down to the `User`
 * (e.g. `['UserConnection.edges', 'UserEdge.node']` for a connection). Used to load those
 * profiles in the same statement as the users (look-ahead) instead of one statement each.
 */
export function profilesRead(registry: ProfileRegistry, info: GraphQLResolveInfo, path: string[] = []): ProfileDefinition[] {
  const parsed = parseResolveInfo(info) as ResolveTree | null;
  if (!parsed) return [];
  let fields: FieldsByTypeName = parsed.fieldsByTypeName;
  for (const step of path) {
    const [type, field] = step.split('.') as [string, string];
    const next = Object.values(fields[type] ?? {}).find((f) => f.name === field);
    if (!next) return [];
    fields = next.fieldsByTypeName;
  }
  const found = new Set<ProfileDefinition>();
  for (const field of Object.values(fields.User ?? {})) {
    const profile = registry.get(field.name);
    if (profile) found.add(profile);
    if ((field.name === 'data' || field.name === 'dataAll') && typeof field.args.key === 'string') {
      try {
        const definers = field.name === 'data' ? [registry.resolveForRead(field.args.key)] : registry.candidates(field.args.key);
        for (const d of definers) found.add(d.profile);
      } catch {
        // An unknown or ambiguous key fails in its own resolver, with its own error.
      }
    }
  }
  return [...found];
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
