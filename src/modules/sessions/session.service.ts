import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { ProfileDefinition } from '../../profiles/model.ts';
import { ident, joinSql, rawSql, sql, valueList } from '../../profiles/sql.ts';
import { execute, rowOf, selectList, type ProfileRow } from '../../profiles/store.ts';
import type { CoreKeys } from '../profiles/core-keys.ts';
import { userColumns, userFromRow, type UserEntity } from '../users/user.entity.ts';

/** Bytes of entropy in a session token: 256 bits from the OS CSPRNG. */
const TOKEN_BYTES = 32;

/** A freshly issued session: the bearer token is shown once and never stored. */
export interface IssuedSession {
  id: string;
  token: string;
  expiresAt: Date;
}

/** The session a request authenticated with (null id: trusted-header identity, no session), and its user. */
export interface ActiveSession {
  id: string | null;
  user: UserEntity;
  /** `aal2` when the session was opened with a second factor (NIST SP 800-63B); `aal1` otherwise, and without a session row. */
  assuranceLevel?: 'aal1' | 'aal2';
  /** When the session was issued (a login or signup); null without a session row. */
  createdAt: Date | null;
  /**
   * The viewer's rows of the profiles holding `isActive`, `isStaff` and `isSuperuser`, read by
   * the session lookup itself (undefined: no row yet), for the request's loaders to start with,
   * so the staff test costs no statement of its own.
   */
  profileRows?: { profile: string; row: ProfileRow | undefined }[];
}

/** SHA-256 of a bearer token, the only form in which tokens are stored (32 bytes). */
/** The client a session is issued to, as the API shows it later (`Session.userAgent`, `address`). */
export interface SessionClient {
  userAgent?: string | null | undefined;
  address?: string | null | undefined;
}

/** A live session as `User.sessions` lists it (token never included: only its hash is stored). */
export interface SessionRow {
  id: string;
  userId: string;
  userAgent: string | null;
  address: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  assuranceLevel: 'aal1' | 'aal2';
}

/** Longest `User-Agent` kept per session, in characters (longer ones are cut). */
export const USER_AGENT_MAX_LENGTH = 512;
/** Most sessions `User.sessions` lists per user: the most recently seen ones. */
export const SESSIONS_LISTED_MAX = 100;

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Opaque bearer sessions (SPEC §5): tokens are 32 CSPRNG bytes in base64url (43 chars);
 * `sessions.token_hash` keeps their SHA-256. A session is valid while
 * `now < expires_at` (absolute timeout) and `now < last_seen_at + idle timeout`, and only for
 * an active user (core key `isActive`, however it was written).
 */
export class SessionService {
  /** `last_seen_at` is written at most this often per session, not on every request. */
  private readonly touchIntervalMs: number;

  constructor(
    private readonly config: Config['sessions'],
    private readonly clock: Clock,
    private readonly coreKeys: CoreKeys,
  ) {
    this.touchIntervalMs = Math.min(60_000, Math.floor(config.idleTimeoutMs / 10));
  }

  /**
   * Starts a session for `userId` and returns its token (inside the caller's transaction, if
   * any), recording the client's user agent (cut to {@link USER_AGENT_MAX_LENGTH}) and address.
   */
  async issue(em: EntityManager, userId: string, client: SessionClient = {}, assuranceLevel: 'aal1' | 'aal2' = 'aal1'): Promise<IssuedSession> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.config.absoluteTimeoutMs);
    const userAgent = client.userAgent ? client.userAgent.slice(0, USER_AGENT_MAX_LENGTH) : null;
    const [row] = await em.execute<{ id: string }[]>(
      'insert into sessions (user_id, token_hash, created_at, last_seen_at, expires_at, user_agent, client_address, assurance_level) values (?, ?, ?, ?, ?, ?, ?, ?) returning id',
      [userId, hashToken(token), now, now, expiresAt, userAgent, client.address ?? null, assuranceLevel],
    );
    return { id: String(row!.id), token, expiresAt };
  }

  /**
   * Resolves a bearer token to its live session and user in one statement; refreshes
   * `last_seen_at` when it is older than the touch interval. Returns `null` for unknown,
   * revoked, idle or expired tokens, and for a user whose `isActive` reads false (the flag's
   * holding profile is joined into the same statement, see `CoreKeys.flagSql`): a deactivated
   * account's requests are unauthenticated whatever wrote the flag.
   */
  async resolve(em: EntityManager, token: string): Promise<ActiveSession | null> {
    const now = this.clock.now();
    const idleSince = new Date(now.getTime() - this.config.idleTimeoutMs);
    const active = this.coreKeys.flagSql('isActive', 'u', 'active_flag');
    const flagProfiles = this.flagProfiles();
    const joined = flagProfiles.map((profile, i) => ({ profile, alias: `vp${i}`, prefix: `vp${i}__` }));
    const columns = joinSql(
      joined.map((j) => selectList(j.profile, j.alias, j.prefix)),
      ', ',
    );
    const joins = joinSql(
      joined.map((j) => sql`left join ${ident(j.profile.table)} as ${ident(j.alias)} on ${ident(j.alias, 'user_id')} = u.id`),
      ' ',
    );
    const [row] = await execute(
      em,
      sql`select s.id as session_id, s.created_at as session_created_at, s.last_seen_at, s.assurance_level, ${rawSql(userColumns('u'))}${joined.length ? sql`, ${columns}` : rawSql('')}
         from sessions s join users u on u.id = s.user_id ${active.join} ${joins}
        where s.token_hash = ${hashToken(token)} and s.expires_at > ${now} and s.last_seen_at > ${idleSince} and ${active.holds}`,
    );
    if (!row) return null;
    const sessionId = String(row.session_id);
    const lastSeen = new Date(row.last_seen_at as string | Date);
    if (now.getTime() - lastSeen.getTime() > this.touchIntervalMs) {
      await em.execute('update sessions set last_seen_at = ? where id = ? and last_seen_at < ?', [now, sessionId, now]);
    }
    return {
      id: sessionId,
      user: userFromRow(row),
      createdAt: new Date(row.session_created_at as string | Date),
      assuranceLevel: row.assurance_level === 'aal2' ? 'aal2' : 'aal1',
      profileRows: joined.map((j) => ({ profile: j.profile.name, row: rowOf(j.profile, row, j.prefix) })),
    };
  }

  /** The distinct profiles holding the account flags (`isActive`, `isStaff`, `isSuperuser`). */
  private flagProfiles(): ProfileDefinition[] {
    const profiles = (['isActive', 'isStaff', 'isSuperuser'] as const).flatMap((key) => this.coreKeys.holder(key)?.profile ?? []);
    return [...new Set(profiles)];
  }

  /**
   * The live sessions (neither expired nor idle) of each of `userIds`, most recently seen first,
   * at most {@link SESSIONS_LISTED_MAX} per user: one statement for all of them.
   */
  async listFor(em: EntityManager, userIds: readonly string[]): Promise<SessionRow[][]> {
    if (userIds.length === 0) return [];
    const now = this.clock.now();
    const idleSince = new Date(now.getTime() - this.config.idleTimeoutMs);
    const rows = await execute(
      em,
      sql`select id, user_id, user_agent, client_address, created_at, last_seen_at, expires_at, assurance_level from (
            select s.*, row_number() over (partition by s.user_id order by s.last_seen_at desc, s.id desc) as n
              from sessions s
             where s.user_id in ${valueList(userIds)} and s.expires_at > ${now} and s.last_seen_at > ${idleSince}) ranked
          where n <= ${SESSIONS_LISTED_MAX}
          order by last_seen_at desc, id desc`,
    );
    const byUser = new Map<string, SessionRow[]>(userIds.map((id) => [id, []]));
    for (const row of rows) {
      byUser.get(String(row.user_id))?.push({
        id: String(row.id),
        userId: String(row.user_id),
        userAgent: (row.user_agent as string | null) ?? null,
        address: (row.client_address as string | null) ?? null,
        createdAt: new Date(row.created_at as string | Date),
        lastSeenAt: new Date(row.last_seen_at as string | Date),
        expiresAt: new Date(row.expires_at as string | Date),
        assuranceLevel: row.assurance_level === 'aal2' ? 'aal2' : 'aal1',
      });
    }
    return userIds.map((id) => byUser.get(id) ?? []);
  }

  /** Ends the live session `sessionId` if it belongs to `userId`. Returns whether one ended. */
  async revokeOf(em: EntityManager, userId: string, sessionId: string): Promise<boolean> {
    const now = this.clock.now();
    const idleSince = new Date(now.getTime() - this.config.idleTimeoutMs);
    // Only a live session counts (an expired or idle row is the pruner's, and answers false).
    const result = await em.execute<{ affectedRows: number }>(
      'delete from sessions where id = ? and user_id = ? and expires_at > ? and last_seen_at > ?',
      [sessionId, userId, now, idleSince],
      'run',
    );
    return result.affectedRows > 0;
  }

  /** Ends one session. Returns whether it existed. */
  async revoke(em: EntityManager, sessionId: string | null): Promise<boolean> {
    if (sessionId === null) return false;
    const result = await em.execute<{ affectedRows: number }>('delete from sessions where id = ?', [sessionId], 'run');
    return result.affectedRows > 0;
  }

  /** Ends every session of each of `userIds` (one statement). Returns how many ended. */
  async revokeAllOf(em: EntityManager, userIds: readonly string[]): Promise<number> {
    if (userIds.length === 0) return 0;
    const result = await execute<{ affectedRows: number }>(em, sql`delete from sessions where user_id in ${valueList(userIds)}`, 'run');
    return result.affectedRows;
  }

  /** Ends every session of `userId`, except `keepSessionId` when given. Returns how many ended. */
  async revokeAll(em: EntityManager, userId: string, keepSessionId?: string | null): Promise<number> {
    const result = keepSessionId
      ? await em.execute<{ affectedRows: number }>('delete from sessions where user_id = ? and id <> ?', [userId, keepSessionId], 'run')
      : await em.execute<{ affectedRows: number }>('delete from sessions where user_id = ?', [userId], 'run');
    return result.affectedRows;
  }
}
