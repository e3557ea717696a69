import type { ApolloServerPlugin } from '@apollo/server';
import {
  Kind,
  valueFromASTUntyped,
  type ArgumentNode,
  type DirectiveNode,
  type DocumentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { appError, ErrorCode, type FieldErrors } from './errors.ts';

/** At most this many offending paths are named in one error. */
const MAX_REPORTED = 20;
/** A surrogate code unit not part of a pair: in a `u` regex, pairs read as one code point. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why `value` cannot be stored in a PostgreSQL `text` (or `jsonb`) column, or `undefined` when
 * it can. PostgreSQL text holds any Unicode scalar value except U+0000 (NUL), which its
 * C-string storage cannot represent ("invalid byte sequence for encoding UTF8: 0x00"); and a
 * JavaScript string holding a lone UTF-16 surrogate has no UTF-8 encoding at all (the driver
 * would silently store U+FFFD instead). Those are the two cases refused.
 */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'Text must not contain the NUL character (U+0000).';
  if (LONE_SURROGATE.test(value)) return 'Text must be well-formed Unicode (no lone UTF-16 surrogates).';
  return undefined;
}

/**
 * Every string an operation hands to resolvers that PostgreSQL could not store (see
 * {@link textProblem}), by input path: string literals in the arguments of fields and
 * directives (the selected operation and every fragment of `document`), and the values of
 * the variables those arguments use — the request's `variables`, or a variable's default when
 * the request gives none — including object keys inside JSON values. Paths are argument
 * paths as in other `BAD_USER_INPUT` errors: `identifier`, `input.social.bio`,
 * `where.AND.0.identifier.eq`. Returns at most {@link MAX_REPORTED} entries; `{}` when clean.
 */
export function findUnstorableText(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): FieldErrors {
  const problems: FieldErrors = {};
  let count = 0;
  const report = (path: readonly (string | number)[], text: string) => {
    const problem = textProblem(text);
    if (!problem || count >= MAX_REPORTED) return;
    const key = path.join('.');
    if (!(key in problems)) count++;
    problems[key] = problem;
  };

  const effective: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (variables && Object.hasOwn(variables, name)) effective[name] = variables[name];
    else if (definition.defaultValue) effective[name] = valueFromASTUntyped(definition.defaultValue);
  }

  const walkJson = (value: unknown, path: (string | number)[]): void => {
    if (typeof value === 'string') report(path, value);
    else if (Array.isArray(value)) value.forEach((item, i) => walkJson(item, [...path, i]));
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        report([...path, key], key);
        walkJson(item, [...path, key]);
      }
    }
  };
  const walkValue = (node: ValueNode, path: (string | number)[]): void => {
    switch (node.kind) {
      case Kind.STRING:
        report(path, node.value);
        break;
      case Kind.LIST:
        node.values.forEach((item, i) => walkValue(item, [...path, i]));
        break;
      case Kind.OBJECT:
        for (const field of node.fields) walkValue(field.value, [...path, field.name.value]);
        break;
      case Kind.VARIABLE:
        walkJson(effective[node.name.value], path);
        break;
      default:
    }
  };
  const walkArguments = (args: readonly ArgumentNode[] | undefined) => {
    for (const arg of args ?? []) walkValue(arg.value, [arg.name.value]);
  };
  const walkDirectives = (directives: readonly DirectiveNode[] | undefined) => {
    for (const directive of directives ?? []) walkArguments(directive.arguments);
  };
  const walkSelections = (selectionSet: SelectionSetNode | undefined): void => {
    for (const selection of selectionSet?.selections ?? []) {
      walkDirectives(selection.directives);
      if (selection.kind === Kind.FIELD) {
        walkArguments(selection.arguments);
        walkSelections(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) walkSelections(selection.selectionSet);
    }
  };

  walkDirectives(operation.directives);
  walkSelections(operation.selectionSet);
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    walkDirectives(definition.directives);
    walkSelections(definition.selectionSet);
  }
  return problems;
}

/**
 * Input hygiene in one place (issue 10, finding 6): an Apollo Server plugin that, once the
 * operation is parsed, validated and selected (`didResolveOperation`) and before any resolver
 * runs, refuses every request carrying a string PostgreSQL text cannot hold — in arguments,
 * variables, profile inputs, filters, bag keys alike — with `BAD_USER_INPUT` (HTTP 400) naming
 * each offending input path in `extensions.fields`. See {@link findUnstorableText}.
 */
export function inputHygienePlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return;
          const problems = findUnstorableText(document, operation, request.variables);
          if (Object.keys(problems).length === 0) return;
          throw appError(ErrorCode.BAD_USER_INPUT, 'The input is invalid.', { fields: problems, http: { status: 400 } });
        },
      };
    },
  };
}
