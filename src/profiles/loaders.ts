import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ProfileRegistry } from './registry.ts';
import { insertMissingRows, selectRows, type ProfileRow } from './store.ts';

/**
 * Per-request DataLoaders of profile rows, one per profile, created on first use: every
 * `User.<profile>`, `data` and private-field check of a request that touches profile P
 * shares one batched `select … where user_id in (…)`. Missing rows of auto-created
 * profiles are created in one batched insert per batch (SPEC §2 lazy creation).
 */
export class ProfileLoaders {
  private readonly loaders = new Map<string, DataLoader<string, ProfileRow | null>>();
  private readonly primed = new Set<string>();

  constructor(
    private readonly em: EntityManager,
    private readonly registry: ProfileRegistry,
  ) {}

  /** The row of `profile` for `userId`, or null (user missing, or a profile not yet written). */
  load(profile: string, userId: string): Promise<ProfileRow | null> {
    return this.loaderOf(profile).load(userId);
  }

  private loaderOf(profile: string): DataLoader<string, ProfileRow | null> {
    let loader = this.loaders.get(profile);
    if (!loader) {
      loader = new DataLoader((ids) => this.batch(profile, ids), { maxBatchSize: 1000 });
      this.loaders.set(profile, loader);
    }
    return loader;
  }

  /** Seeds the loader of `profile` with a row read elsewhere (a joined select). */
  prime(profile: string, userId: string, row: ProfileRow): void {
    this.loaderOf(profile).prime(userId, row);
    this.primed.add(`${profile}|${userId}`);
  }

  /** Whether the row of `profile` for `userId` was primed (read elsewhere) and not cleared since. */
  isPrimed(profile: string, userId: string): boolean {
    return this.primed.has(`${profile}|${userId}`);
  }

  /** Forgets cached rows of `userId` after a write in this request. */
  clear(userId: string): void {
    for (const loader of this.loaders.values()) loader.clear(userId);
    for (const profile of this.loaders.keys()) this.primed.delete(`${profile}|${userId}`);
  }

  private async batch(name: string, ids: readonly string[]): Promise<(ProfileRow | null)[]> {
    const profile = this.registry.get(name)!;
    const rows = await selectRows(this.em, profile, ids);
    if (profile.autoCreate) {
      const missing = ids.filter((id) => !rows.has(id));
      if (missing.length) {
        const created = await insertMissingRows(this.em, profile, missing);
        for (const [id, row] of created) rows.set(id, row);
        const raced = missing.filter((id) => !rows.has(id));
        if (raced.length) for (const [id, row] of await selectRows(this.em, profile, raced)) rows.set(id, row);
      }
    }
    return ids.map((id) => rows.get(id) ?? null);
  }
}
