import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValueNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/**
 * Every field that verifies a secret (a password, a mailed token, later a second factor) or
 * hashes one (`signup`), as schema coordinates `<Type>.<field>`. Each one costs an argon2
 * verification or hash, or a token lookup
 * however cheap its selection looks, so an operation may hold at most
 * {@link QueryLimits.maxSecretFields} of them (aliases and fragment spreads counted). Add new
 * secret-checking fields (TOTP, recovery codes, passkeys) here, and only here.
 */
export const SECRET_FIELDS: readonly string[] = [
  'Mutation.signup',
  'Mutation.login',
  'Mutation.changePassword',
  'Mutation.resetPassword',
  'Mutation.confirmEmail',
  // With `currentPassword` they verify it (changing the address resets go to).
  'Mutation.updateProfiles',
  'Mutation.setData',
  // Password checks or argon2 hashes of the account lifecycle and administration.
  'Mutation.deleteAccount',
  'Mutation.createUser',
  'Mutation.setPassword',
  // Second factors: each checks a code or a password.
  'Mutation.verifySecondFactor',
  'Mutation.startTotpEnrollment',
  'Mutation.confirmTotp',
  'Mutation.disableTotp',
  'Mutation.regenerateRecoveryCodes',
];

/** The bounds every operation is checked against before it runs (see README, "Query limits"). */
export interface QueryLimits {
  /** Deepest field nesting (fragments flattened; the `__schema` introspection subtree exempt). */
  maxDepth: number;
  /** Aliased fields per operation, fragments expanded (aliased `__typename` included). */
  maxAliases: number;
  /** Lexical tokens per document (graphql-js `parse(…, { maxTokens })`; a parse error). */
  maxTokens: number;
  /** Directive uses per operation, fragments expanded. */
  maxDirectives: number;
  /** Fragment definitions plus fragment spreads in the document. */
  maxFragments: number;
  /** Largest estimated cost per operation (see {@link estimateCost}). */
  maxCost: number;
  /** Fields of {@link SECRET_FIELDS} per operation. */
  maxSecretFields: number;
  /** Page sizes of paginated fields (`first`): the default when absent and the cap. */
  pageSize: { defaultSize: number; maxSize: number };
}

/** Cost and secret-field count of one operation, as computed by {@link estimateCost}. */
export interface OperationCost {
  cost: number;
  secretFields: number;
}

/**
 * Parse options for Apollo Server (`parseOptions`): a document of more than `maxTokens` tokens
 * is a syntax error, so Apollo answers HTTP 400 `GRAPHQL_PARSE_FAILED` before validating.
 */
export function queryParseOptions(limits: QueryLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

/** The page size a paginated field's `first` argument asks for, capped; a variable counts as the cap. */
function pageSizeOf(value: ValueNode | undefined, pageSize: QueryLimits['pageSize']): number {
  if (!value || value.kind === Kind.NULL) return pageSize.defaultSize;
  if (value.kind === Kind.INT) return Math.max(0, Math.min(Number(value.value), pageSize.maxSize));
  // A variable (its value is not part of the document, and validated documents are cached)
  // or an invalid literal (reported by graphql-js's own rules): assume the worst.
  return pageSize.maxSize;
}

/** Whether a field or argument type is a list (under any non-null wrapper), told apart by shape. */
function isListType(type: { toString(): string }): boolean {
  return type.toString().replace(/!$/, '').startsWith('[');
}

/**
 * How many items a list field fetched by a list of keys (`_usersByIds(ids:)`, federation's
 * `_entities(representations:)`) returns: one per key, so the length of the longest literal
 * list argument, capped at `pageSize.maxSize`; a variable counts as the cap (the resolvers
 * refuse more than the cap). 1 for any other field.
 */
function keyedListSize(def: GraphQLField<unknown, unknown>, selection: FieldNode, pageSize: QueryLimits['pageSize']): number {
  if (!isListType(def.type)) return 1;
  let size = 1;
  for (const arg of def.args) {
    if (!isListType(arg.type)) continue;
    const value = selection.arguments?.find((a) => a.name.value === arg.name)?.value;
    if (!value) continue;
    const length = value.kind === Kind.LIST ? value.values.length : value.kind === Kind.VARIABLE ? pageSize.maxSize : 1;
    size = Math.max(size, Math.min(length, pageSize.maxSize));
  }
  return size;
}

// Types are told apart by shape, not with graphql-js's `isObjectType` & co.: those are
// `instanceof` checks, which throw where two graphql-js instances meet (vitest loads the ESM
// build for our sources while the schema is built by the CommonJS one; see errors.ts).

/** The field `name` of an object or interface type; undefined for unions, scalars and unknown names. */
function fieldDef(type: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined {
  return 'getFields' in type ? (type.getFields()[name] as GraphQLField<unknown, unknown> | undefined) : undefined;
}

/** The named type under any list and non-null wrappers. */
function namedType(type: GraphQLOutputType): GraphQLNamedType {
  let current: GraphQLOutputType = type;
  while ('ofType' in current) current = current.ofType;
  return current;
}

/**
 * Estimates what an operation costs to run, from the document alone: every field costs 1,
 * times the number of parent objects it runs for; a field with a `first` argument (a page)
 * multiplies its selection by its page size — the literal `first` capped at
 * `pageSize.maxSize`, `pageSize.defaultSize` when absent, the cap when it is a variable.
 * A list field fetched by a list of keys (`_usersByIds(ids:)`, `_entities`) multiplies its
 * selection by the number of keys (a variable counts as the cap). Other lists count once
 * (their size is bounded by data, not by the request). `__typename`
 * is free; introspection fields (`__schema`, `__type`) count like other fields.
 * Fragment spreads are expanded, each fragment computed once (cost is linear in the
 * multiplier), so nested spreads cannot blow up the analysis; a spread of a fragment that is
 * being expanded (a cycle, which `NoFragmentCycles` reports) or unknown counts 0. Fields
 * unknown to the schema count 0 (other rules report them). Also counts the fields of
 * {@link SECRET_FIELDS}, multiplied the same way. Never throws.
 */
export function estimateCost(context: ValidationContext, operation: OperationDefinitionNode, pageSize: QueryLimits['pageSize']): OperationCost {
  const schema = context.getSchema();
  const secret = new Set(SECRET_FIELDS);
  const fragments = new Map<string, OperationCost>();
  const expanding = new Set<string>();
  const none = (): OperationCost => ({ cost: 0, secretFields: 0 });

  const introspectionField = (name: string, type: GraphQLNamedType) => {
    if (type !== schema.getQueryType()) return undefined;
    return name === SchemaMetaFieldDef.name ? SchemaMetaFieldDef : name === TypeMetaFieldDef.name ? TypeMetaFieldDef : undefined;
  };

  const selectionCost = (selectionSet: SelectionSetNode, type: GraphQLNamedType): OperationCost => {
    const total = none();
    const add = (part: OperationCost, factor = 1) => {
      total.cost += part.cost * factor;
      total.secretFields += part.secretFields * factor;
    };
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '__typename') continue;
        const def = fieldDef(type, selection.name.value) ?? introspectionField(selection.name.value, type);
        if (!def) continue;
        add({ cost: 1, secretFields: secret.has(`${type.name}.${def.name}`) ? 1 : 0 });
        if (selection.selectionSet) {
          const paged = def.args.some((arg) => arg.name === 'first');
          const first = selection.arguments?.find((arg) => arg.name.value === 'first')?.value;
          const factor = paged ? pageSizeOf(first, pageSize) : keyedListSize(def, selection, pageSize);
          add(selectionCost(selection.selectionSet, namedType(def.type)), factor);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (condition) add(selectionCost(selection.selectionSet, condition));
      } else {
        add(fragmentCost(context.getFragment(selection.name.value)));
      }
    }
    return total;
  };

  const fragmentCost = (fragment: FragmentDefinitionNode | null | undefined): OperationCost => {
    if (!fragment) return none();
    const name = fragment.name.value;
    const known = fragments.get(name);
    if (known) return known;
    if (expanding.has(name)) return none();
    const condition = schema.getType(fragment.typeCondition.name.value);
    if (!condition) return none();
    expanding.add(name);
    const result = selectionCost(fragment.selectionSet, condition);
    expanding.delete(name);
    fragments.set(name, result);
    return result;
  };

  const root = schema.getRootType(operation.operation);
  return root ? selectionCost(operation.selectionSet, root) : none();
}

/** Reports a limit error, on `node` when given (Apollo answers 400 `GRAPHQL_VALIDATION_FAILED`; nothing runs). */
function report(context: ValidationContext | null, message: string, node?: OperationDefinitionNode): void {
  context?.reportError(new GraphQLError(message, node ? { nodes: [node] } : {}));
}

/** graphql-armor's rejections, reported as plain validation errors (armor prefixes "Syntax Error: " and would throw). */
const armorCallbacks = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => report(context, error.message.replace(/^Syntax Error: /, ''))],
};

/** Fragment definitions plus fragment spreads in the whole document, at most `max`. */
function maxFragmentsRule(max: number): ValidationRule {
  return (context) => {
    let count = 0;
    return {
      FragmentDefinition: () => void (count += 1),
      FragmentSpread: () => void (count += 1),
      Document: { leave: () => (count > max ? report(context, `Fragment limit of ${max} exceeded, found ${count}.`) : undefined) },
    };
  };
}

/** The cost analysis ({@link estimateCost}) and the secret-field count, per operation. */
function costRule(limits: QueryLimits): ValidationRule {
  return (context): ASTVisitor => ({
    OperationDefinition(operation) {
      const { cost, secretFields } = estimateCost(context, operation, limits.pageSize);
      if (cost > limits.maxCost) report(context, `Query cost limit of ${limits.maxCost} exceeded, estimated ${cost}.`, operation);
      if (secretFields > limits.maxSecretFields) {
        report(
          context,
          `At most ${limits.maxSecretFields} password or token check${limits.maxSecretFields === 1 ? '' : 's'} (${SECRET_FIELDS.map((f) => f.split('.')[1]).join(', ')}) per operation, found ${secretFields}.`,
          operation,
        );
      }
    },
  });
}

/**
 * The validation rules that bound an operation's cost before it runs, for Apollo Server's
 * `validationRules` (their errors are HTTP 400 `GRAPHQL_VALIDATION_FAILED`; no resolver runs):
 * depth, aliases and directives (graphql-armor's rules, fragments expanded, aliased
 * `__typename` counted), fragments, and the cost and secret-field limits of
 * {@link estimateCost}. The token limit is a parse option ({@link queryParseOptions}).
 */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: true, ...armorCallbacks }),
    maxAliasesRule({ n: limits.maxAliases, allowList: [], ...armorCallbacks }),
    maxDirectivesRule({ n: limits.maxDirectives, ...armorCallbacks }),
    maxFragmentsRule(limits.maxFragments),
    costRule(limits),
  ];
}
