import type { EntityManager } from '@mikro-orm/postgresql';
import { User, type UserEntity } from './user.entity.ts';
import { identifierKey } from './identifier.ts';

/** Reads of accounts. Writes belong to the auth flows (signup, password changes). */
export class UserService {
  /** The user with this id, or null. `id` is a decimal string; anything else finds nothing. */
  async findById(em: EntityManager, id: string): Promise<UserEntity | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    return em.findOne(User, { id });
  }

  /** The user whose identifier matches case-insensitively after NFKC normalisation, or null. */
  async findByIdentifier(em: EntityManager, identifier: string): Promise<UserEntity | null> {
    return em.findOne(User, { identifierKey: identifierKey(identifier) });
  }
}
