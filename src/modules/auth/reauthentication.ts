import { appError, ErrorCode } from '../../errors.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import { identifierKey } from '../users/identifier.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { PasswordHasher } from './password-hasher.ts';

/** How long after a login (or signup) its session counts as a fresh login: 5 minutes, in ms. */
export const FRESH_LOGIN_MS = 5 * 60_000;

/**
 * Proof that the person at the keyboard is the account's owner, for changes that would hand
 * the account to whoever holds the session (the password; the address resets are mailed to):
 * the current password, checked under the same limiter as a login, or a fresh login.
 */
export class Reauthentication {
  constructor(
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
  ) {}

  /**
   * Checks the viewer's current password: one argon2 verification, throttled like a login,
   * the request's session being a known client of its account (its own allowance). Errors:
   * `UNAUTHENTICATED`, `INVALID_CREDENTIALS`, `RATE_LIMITED`.
   */
  async verify(scope: RequestScope, password: string): Promise<void> {
    const viewer = requireViewer(scope);
    const key = identifierKey(viewer.user.identifier);
    const client = { address: scope.clientAddress, device: viewer.id && `session:${viewer.id}` };
    await this.throttle.consume(key, client);
    const result = await this.hasher.verify(viewer.user.password, password);
    if (!result.valid) throw appError(ErrorCode.INVALID_CREDENTIALS, 'The current password is wrong.');
    await this.throttle.succeeded(key, client);
  }

  /**
   * Whether the viewer logged in within {@link FRESH_LOGIN_MS}. A trusted-header identity (no
   * session row) counts as fresh: the proxy authenticates every request.
   */
  isFresh(scope: RequestScope): boolean {
    const viewer = requireViewer(scope);
    if (viewer.id === null) return true;
    return viewer.createdAt !== null && scope.clock.now().getTime() - viewer.createdAt.getTime() <= FRESH_LOGIN_MS;
  }

  /**
   * Passes for a fresh login, or when `password` is given and is the viewer's current one.
   * Errors: `FORBIDDEN` with `extensions.reason: "CURRENT_PASSWORD_REQUIRED"` (and `what`
   * in the message) when neither holds, plus those of {@link verify}.
   */
  async require(scope: RequestScope, password: string | null | undefined, what: string): Promise<void> {
    if (password != null) return this.verify(scope, password);
    if (this.isFresh(scope)) return;
    throw appError(ErrorCode.FORBIDDEN, `Changing ${what} needs your current password (currentPassword) or a fresh login.`, {
      reason: 'CURRENT_PASSWORD_REQUIRED',
    });
  }
}
