import type { EntityManager } from '@mikro-orm/postgresql';
import { appError, ErrorCode } from '../../errors.ts';
import { parseId } from '../../ids.ts';
import type { ProfileDefinition } from '../../profiles/model.ts';
import type { ProfileRegistry } from '../../profiles/registry.ts';
import { ident, joinSql, sql, valueList } from '../../profiles/sql.ts';
import { execute } from '../../profiles/store.ts';
import { requireViewer, type RequestScope } from '../../request.ts';
import type { Reauthentication } from '../auth/reauthentication.ts';
import type { EventBus } from '../events/events.ts';
import { requireStaffPerm, requireSuperuser } from '../permissions/access.ts';
import type { UserEntity } from '../users/user.entity.ts';
import type { UserService } from '../users/user.service.ts';

/**
 * Account deletion (SPEC §8): the owner (`deleteAccount`, re-authenticated by password) or staff
 * holding `auth.delete_user` (`deleteUser`) remove a user in one transaction:
 *
 * - rows of `@profile(onDelete: ANONYMIZE)` profiles leave their non-`@private`, non-`@unique`
 *   columns, unlinked, in `deleted_profile_rows`;
 * - mails still in the outbox to any of the user's addresses (every `EmailAddress` field) are
 *   removed (they carry live links and personal data);
 * - the user's own audit events lose their payload when it names them (`identifier`, `email`),
 *   as do failed logins naming its identifier, and webhook deliveries about the user keep only
 *   `subjectId`;
 * - the `users` row is deleted, and with it, by the foreign keys' `on delete cascade`, every
 *   profile row, follow (both directions) and follow request, session, token, device token,
 *   group membership and permission grant;
 * - an `account.deleted` audit event keeps the id, who deleted it and how, and nothing personal.
 *
 * Afterwards the id answers null everywhere (`user`, `_usersByIds`, `_entities`).
 */
export class AccountDeletionService {
  constructor(
    private readonly registry: ProfileRegistry,
    private readonly users: UserService,
    private readonly reauthentication: Reauthentication,
    private readonly events: EventBus,
  ) {}

  /**
   * Deletes the viewer's own account after checking `password` (throttled like a login).
   * Errors: `UNAUTHENTICATED`, `INVALID_CREDENTIALS`, `RATE_LIMITED`.
   */
  async deleteAccount(scope: RequestScope, password: string): Promise<boolean> {
    const viewer = requireViewer(scope);
    await this.reauthentication.verify(scope, password);
    await this.remove(scope, viewer.user, 'owner');
    return true;
  }

  /**
   * Deletes another user's account: staff holding `auth.delete_user`; a superuser's account needs
   * a superuser. Errors: `UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT` (field
   * `userId`: not an id, or the viewer's own — that is `deleteAccount`).
   */
  async deleteUser(scope: RequestScope, userId: string): Promise<boolean> {
    await requireStaffPerm(scope, 'auth.delete_user');
    const id = parseId(userId, 'userId');
    if (id === requireViewer(scope).user.id) {
      throw appError(ErrorCode.BAD_USER_INPUT, 'Delete your own account with deleteAccount.', { fields: { userId: 'This is your own account.' } });
    }
    const target = await this.users.findById(scope.em, id);
    if (!target) throw appError(ErrorCode.NOT_FOUND, 'No such user.');
    if ((await scope.loaders.permissions.flags(target.id)).superuser) await requireSuperuser(scope, "delete a superuser's account");
    await this.remove(scope, target, 'staff');
    return true;
  }

  private async remove(scope: RequestScope, user: UserEntity, by: 'owner' | 'staff'): Promise<void> {
    const profiles = this.registry.profiles;
    const deletedOn = scope.clock.now().toISOString().slice(0, 10);
    await scope.em.transactional(async (tx) => {
      // Concurrent deletions (or a write racing one) queue here; the second finds no row.
      const [locked] = await execute(tx, sql`select id from users where id = ${user.id} for update`);
      if (!locked) throw appError(ErrorCode.NOT_FOUND, 'No such user.');
      for (const profile of profiles.filter((p) => p.onDelete === 'ANONYMIZE')) await this.anonymize(tx, profile, user.id, deletedOn);
      const addresses = await this.addressesOf(tx, profiles, user.id);
      if (addresses.length > 0) await execute(tx, sql`delete from mail_outbox where lower(recipient) in ${valueList(addresses)}`, 'run');
      await execute(
        tx,
        sql`update audit_events set data = '{}'::jsonb where subject_id = ${user.id} and jsonb_exists_any(data, array['identifier', 'email'])`,
        'run',
      );
      // Throttled logins were recorded without a subject, by identifier only.
      await execute(
        tx,
        sql`update audit_events set data = '{}'::jsonb where subject_id is null and type = 'auth.login_failed' and lower(data->>'identifier') = lower(${user.identifier})`,
        'run',
      );
      // Webhook bodies about the user, sent or still to send, keep only whom they were about
      // (receivers also get account.deleted).
      await execute(
        tx,
        sql`update webhook_deliveries set payload = jsonb_set(payload, '{data}', jsonb_build_object('subjectId', payload->'data'->'subjectId', 'redacted', true))
             where payload->'data'->>'subjectId' = ${user.id}`,
        'run',
      );
      await execute(tx, sql`delete from users where id = ${user.id}`, 'run');
      await this.events.emit(tx, {
        type: 'account.deleted',
        actorId: scope.viewer?.user.id ?? null,
        subjectId: user.id,
        clientAddress: scope.clientAddress,
        data: { by },
      });
    });
    scope.loaders.profiles.clear(user.id);
    scope.loaders.users.clear(user.id);
  }

  /** Copies the row's shareable columns (not `@private`, not `@unique`) into `deleted_profile_rows`. */
  private async anonymize(tx: EntityManager, profile: ProfileDefinition, userId: string, deletedOn: string): Promise<void> {
    const dropped = joinSql(['user_id', ...profile.fields.filter((f) => f.private || f.unique).map((f) => f.column)].map((column) => sql`${column}`));
    await execute(
      tx,
      sql`insert into deleted_profile_rows (profile, data, deleted_on)
          select ${profile.name}, to_jsonb(r) - array[${dropped}]::text[], ${deletedOn}::date from ${ident(profile.table)} r where r.user_id = ${userId}`,
      'run',
    );
  }

  /** Every address the user has in an `EmailAddress` field of any profile or a pending address change, lower-cased. */
  private async addressesOf(tx: EntityManager, profiles: readonly ProfileDefinition[], userId: string): Promise<string[]> {
    const reads = profiles.flatMap((profile) =>
      profile.fields
        .filter((f) => f.kind === 'email')
        .map(
          (f) =>
            sql`select lower(${ident('r', f.column)}) as address from ${ident(profile.table)} r where r.user_id = ${userId} and ${ident('r', f.column)} is not null`,
        ),
    );
    // An address change waiting for confirmation lives in its token's payload only.
    reads.push(sql`select lower(t.payload->>'email') as address from user_tokens t where t.user_id = ${userId} and t.payload->>'email' is not null`);
    const rows = await execute<{ address: string }[]>(tx, joinSql(reads, ' union '));
    return [...new Set(rows.map((r) => r.address))];
  }
}
