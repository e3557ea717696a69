import proxyaddr from 'proxy-addr';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import type { EventBus } from '../events/events.ts';
import type { CoreKeys } from '../profiles/core-keys.ts';
import type { ProfileWriter } from '../profiles/profile.writer.ts';
import { User, type UserEntity } from '../users/user.entity.ts';
import { checkIdentifier, identifierKey } from '../users/identifier.ts';
import type { UserService } from '../users/user.service.ts';
import { makeUnusablePassword } from './password-hasher.ts';

/**
 * Trusted-header authentication, the counterpart of Django's `RemoteUserBackend`: a proxy in
 * front of the service authenticates users itself and passes the identifier in a header
 * (`TRUSTED_HEADER`, e.g. `x-remote-user`). The header is believed only when the request's
 * direct peer address (the socket, never `X-Forwarded-For`) matches `TRUSTED_PROXIES`
 * (addresses or CIDR ranges, as proxy-addr compiles them); from anywhere else it is ignored
 * and logged. Off unless `TRUSTED_HEADER` is set. With `TRUSTED_HEADER_CREATE_USERS`, an
 * unknown identifier becomes a new user with an unusable password (like Django's
 * `create_unknown_user`). Inactive accounts are not authenticated.
 */
export class TrustedHeaderAuth {
  private readonly trust: ((address: string, index: number) => boolean) | undefined;

  constructor(
    private readonly config: Config['trustedHeader'],
    private readonly identifierMaxLength: number,
    private readonly users: UserService,
    private readonly profiles: ProfileWriter,
    private readonly coreKeys: CoreKeys,
    private readonly events: EventBus,
    private readonly logger: Logger,
  ) {
    this.trust = config.header ? proxyaddr.compile(config.proxies) : undefined;
  }

  /** The header name to read, lower-cased, when the feature is on. */
  get header(): string | undefined {
    return this.config.header;
  }

  /**
   * The user named by `identifier` when `peerAddress` is a trusted proxy; null otherwise
   * (untrusted peer, unknown user without auto-creation, invalid identifier, inactive user).
   */
  async authenticate(em: EntityManager, identifier: string, peerAddress: string | undefined): Promise<UserEntity | null> {
    if (!this.trust || !peerAddress || !this.trust(peerAddress, 0)) {
      this.logger.warn({ peerAddress, header: this.config.header }, 'ignored a trusted-header identity from an untrusted address');
      return null;
    }
    if (checkIdentifier(identifier, this.identifierMaxLength)) return null;
    let user = await this.users.findByIdentifier(em, identifier);
    if (!user && this.config.createUsers) user = await this.create(em, identifier);
    if (!user) return null;
    return (await this.coreKeys.read(em, user.id, 'isActive')) ? user : null;
  }

  private async create(em: EntityManager, identifier: string): Promise<UserEntity | null> {
    const key = identifierKey(identifier);
    const user = await em.transactional(async (tx) => {
      const rows = await tx.execute<{ id: string }[]>(
        'insert into users (identifier, identifier_key, password) values (?, ?, ?) on conflict (identifier_key) do nothing returning id',
        [identifier, key, makeUnusablePassword()],
      );
      if (!rows[0]) return null;
      await this.profiles.createForSignup(tx, String(rows[0].id), {}, new Date());
      return String(rows[0].id);
    });
    if (user) {
      await this.events.emit(em, { type: 'user.signup', actorId: user, subjectId: user, data: { identifier } });
    }
    return em.findOne(User, { identifierKey: key });
  }
}
