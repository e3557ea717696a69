import type { Config } from '../config.ts';
import { staticUserFields } from '../schema.ts';
import { loadProfileRegistry, type ProfileRegistry } from './registry.ts';

/** The profile registry of `config` (`PROFILES_DIR`, `PROFILES`), checked against the `User` type. */
export function registryFromConfig(config: Config): Promise<ProfileRegistry> {
  return loadProfileRegistry({
    dir: config.profiles.dir,
    installed: config.profiles.installed,
    reservedUserFields: staticUserFields(),
    identifierMaxLength: config.accounts.identifierMaxLength,
  });
}
