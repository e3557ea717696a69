import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';

/**
 * The one fixed set of `extensions.code` values a client can see (SPEC §5). Anything else
 * is masked to `INTERNAL_SERVER_ERROR` by {@link createFormatError}.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  IDENTIFIER_TAKEN: 'IDENTIFIER_TAKEN',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  INVALID_TOKEN: 'INVALID_TOKEN',
  PROFILE_KEY_UNKNOWN: 'PROFILE_KEY_UNKNOWN',
  PROFILE_KEY_AMBIGUOUS: 'PROFILE_KEY_AMBIGUOUS',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const publicCodes = new Set<string>(Object.values(ErrorCode));
/** Codes Apollo Server itself produces for malformed requests; safe to pass through. */
const requestCodes = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/** Per-field messages of a `BAD_USER_INPUT` error: `{ "input.password": "…" }`. */
export type FieldErrors = Record<string, string>;

/** Builds a client-facing error with one of the public codes. */
export function appError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/**
 * The name of the constraint a database error violated (PostgreSQL's `constraint` field, kept
 * by MikroORM's exceptions), or undefined. Errors are mapped by this name, never by message text.
 */
export function violatedConstraint(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

/** `BAD_USER_INPUT` with per-field details in `extensions.fields`. */
export function badInput(fields: FieldErrors, message = 'The input is invalid.'): GraphQLError {
  return appError(ErrorCode.BAD_USER_INPUT, message, { fields });
}

/**
 * Apollo `formatError`: passes errors that carry a public code (or Apollo's request
 * validation codes) with their message and extensions minus any stack; logs and masks
 * everything else (driver errors, bugs) to a bare `INTERNAL_SERVER_ERROR`.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Apollo gives every error that is not a GraphQLError carrying its own code the code
    // INTERNAL_SERVER_ERROR, so the code alone tells ours and Apollo's request errors apart
    // (an instanceof check would break where two copies of graphql-js are loaded).
    const code = formatted.extensions?.code;
    const original = unwrapResolverError(error);
    const known = typeof code === 'string' && (publicCodes.has(code) || requestCodes.has(code));
    if (known && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error while executing an operation');
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
