import type { EntityManager } from '@mikro-orm/postgresql';
import type { Command } from 'commander';
import { GraphQLError } from 'graphql';
import { loadConfig } from '../config.ts';
import { ErrorCode } from '../errors.ts';
import { checkPassword } from '../modules/auth/password-policy.ts';
import { checkIdentifier } from '../modules/users/identifier.ts';
import type { ProfilesInput } from '../modules/profiles/profile.writer.ts';
import type { ProfileDefinition } from '../profiles/model.ts';
import type { ProfileRegistry, ResolvedKey } from '../profiles/registry.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { importDevDependency } from './dev-dependency.ts';

/** Environment variable holding the password with `--no-input`. */
export const PASSWORD_ENV = 'PROFILEGRAPH_SUPERUSER_PASSWORD';
/** Environment variable holding the identifier with `--no-input` when `--identifier` is not given. */
export const IDENTIFIER_ENV = 'PROFILEGRAPH_SUPERUSER_IDENTIFIER';
/** Environment variable holding the email address with `--no-input` when `--email` is not given. */
export const EMAIL_ENV = 'PROFILEGRAPH_SUPERUSER_EMAIL';

/** A failure a command reports with its message alone (no stack) and exit code 1. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** What the interactive flow asks and tells the operator; replaced in tests. */
export interface Prompter {
  /** Asks for a line of text (echoed). */
  input(message: string): Promise<string>;
  /** Asks for a secret (not echoed). */
  password(message: string): Promise<string>;
  /** Tells the operator something (an error to correct). */
  say(line: string): void;
}

/** Checks the flow applies: each returns the reason for refusing, or `undefined`. */
export interface CredentialChecks {
  identifier(identifier: string): Promise<string | undefined>;
  password(password: string, identifier: string): string | undefined;
}

/**
 * The interactive part of `createsuperuser`, as Django's: the identifier (unless given and
 * acceptable), then the password twice without echo, asking again after a refused identifier,
 * a mismatch, a blank password or one the password rules refuse (saying why).
 */
export async function promptCredentials(
  prompter: Prompter,
  checks: CredentialChecks,
  givenIdentifier?: string,
): Promise<{ identifier: string; password: string }> {
  let identifier = givenIdentifier;
  for (;;) {
    if (identifier === undefined) identifier = await prompter.input('Identifier:');
    const reason = identifier.trim() === '' ? 'The identifier must not be empty.' : await checks.identifier(identifier);
    if (!reason) break;
    prompter.say(`Error: ${reason}`);
    identifier = undefined;
  }
  for (;;) {
    const first = await prompter.password('Password:');
    const second = await prompter.password('Password (again):');
    if (first !== second) {
      prompter.say("Error: Your passwords didn't match.");
      continue;
    }
    if (first === '') {
      prompter.say("Error: Blank passwords aren't allowed.");
      continue;
    }
    const reason = checks.password(first, identifier);
    if (reason) {
      prompter.say(`Error: ${reason}`);
      continue;
    }
    return { identifier, password: first };
  }
}

type InputPrompt = typeof import('@inquirer/input').default;
type PasswordPrompt = typeof import('@inquirer/password').default;
const PROMPTS = 'createsuperuser without --no-input (the interactive prompts)';

/**
 * The terminal prompts: inquirer, the password with no echo at all. Loaded on first use, so a
 * production install without inquirer still runs `createsuperuser --no-input`.
 */
export const terminalPrompter: Prompter = {
  input: async (message) => (await importDevDependency<{ default: InputPrompt }>('@inquirer/input', PROMPTS)).default({ message }),
  password: async (message) =>
    (await importDevDependency<{ default: PasswordPrompt }>('@inquirer/password', PROMPTS)).default({ message, mask: false, toggleMask: false }),
  say: (line) => void process.stderr.write(`${line}\n`),
};

/** `key` resolved strictly, or `undefined` when no installed profile defines it. Ambiguity throws. */
function tryResolve(registry: ProfileRegistry, key: string): ResolvedKey | undefined {
  try {
    return registry.resolveStrict(key);
  } catch (error) {
    if (error instanceof GraphQLError && error.extensions.code === ErrorCode.PROFILE_KEY_UNKNOWN) return undefined;
    throw new CommandError(describeError(error));
  }
}

/**
 * Where the superuser flags are written: `isSuperuser` in the profile `resolveStrict` gives,
 * `isStaff` and `isActive` there too (or in their own definer when that profile lacks them).
 * Throws {@link CommandError} when no installed profile defines `isSuperuser`.
 */
export function superuserFlagTargets(registry: ProfileRegistry): Map<ProfileDefinition, Record<string, boolean>> {
  const superuser = tryResolve(registry, 'isSuperuser');
  if (!superuser) {
    throw new CommandError(
      `No installed profile defines the data key "isSuperuser" (installed: ${registry.profiles.map((p) => p.name).join(', ') || 'none'}); ` +
        'install the "account" profile (see PROFILES) to create a superuser.',
    );
  }
  const targets = new Map<ProfileDefinition, Record<string, boolean>>();
  for (const key of ['isSuperuser', 'isStaff', 'isActive']) {
    const own = superuser.profile.fields.find((f) => f.name === key);
    const resolved = own ? { profile: superuser.profile, field: own } : tryResolve(registry, key);
    if (!resolved) continue;
    const values = targets.get(resolved.profile) ?? {};
    values[resolved.field.name] = true;
    targets.set(resolved.profile, values);
  }
  return targets;
}

/** The profile field that receives `--email`: `mail.email` when installed, else the only definer of `email`. */
export function emailTarget(registry: ProfileRegistry): ResolvedKey | undefined {
  return tryResolve(registry, 'mail.email') ?? tryResolve(registry, 'email');
}

/** A readable message for an error of the services (`BAD_USER_INPUT` lists its fields). */
export function describeError(error: unknown): string {
  if (error instanceof GraphQLError) {
    const fields = error.extensions.fields as Record<string, string> | undefined;
    if (!fields) return error.message;
    return Object.entries(fields)
      .map(([field, message]) => `${field.replace(/^input\.(profiles\.)?/, '')}: ${message}`)
      .join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}

/** The checks of the signup path, for the prompts (identifier also: not taken yet). */
export function credentialChecks(runtime: Runtime, em: EntityManager, profilesInput: ProfilesInput): CredentialChecks {
  const { config, registry, services } = runtime;
  return {
    async identifier(identifier) {
      const problem = checkIdentifier(identifier, config.accounts.identifierMaxLength) ?? (await registry.checkIdentifier(identifier));
      if (problem) return Object.values(problem)[0];
      if (await services.users.findByIdentifier(em, identifier)) return `The identifier "${identifier}" is already taken.`;
      return undefined;
    },
    password: (pw, identifier) => checkPassword(pw, config.passwords, [identifier, ...services.profileWriter.personalValues(profilesInput)]),
  };
}

/** Profile input carrying `email` for the signup, or `{}` without one. Validated. */
export function emailProfilesInput(runtime: Runtime, email: string | undefined): ProfilesInput {
  if (email === undefined) return {};
  const target = emailTarget(runtime.registry);
  if (!target) throw new CommandError('--email was given, but no installed profile defines an "email" field.');
  const profilesInput: ProfilesInput = { [target.profile.name]: { [target.field.name]: email } };
  const problems = runtime.services.profileWriter.validate(profilesInput, { asStaff: false, prefix: '' });
  if (problems) throw new CommandError(`Invalid email address: ${Object.values({ ...problems.readonly, ...problems.invalid }).join(' ')}`);
  return profilesInput;
}

/**
 * Creates a superuser through the signup path (identifier, password and profile validation,
 * argon2id, auto-created profiles), then sets `isSuperuser`, `isStaff` and `isActive` to true,
 * ends the session signup opened and records a `permission.changed` event. When setting the
 * flags fails the new user is removed again. Errors are {@link CommandError}s.
 */
export async function createSuperuser(
  runtime: Runtime,
  input: { identifier: string; password: string; profiles?: ProfilesInput },
): Promise<{ id: string; identifier: string }> {
  const { registry, services } = runtime;
  const targets = superuserFlagTargets(registry);
  const em = runtime.db.orm.em.fork();
  let userId: string;
  try {
    const result = await services.auth.signup(
      { em, clock: services.clock },
      { identifier: input.identifier, password: input.password, profiles: input.profiles ?? {} },
    );
    userId = result.user.id;
  } catch (error) {
    if (error instanceof GraphQLError && error.extensions.code === ErrorCode.IDENTIFIER_TAKEN) {
      throw new CommandError(`The identifier "${input.identifier}" is already taken.`);
    }
    if (error instanceof GraphQLError && error.extensions.code === ErrorCode.BAD_USER_INPUT) throw new CommandError(describeError(error));
    throw error;
  }
  try {
    await em.transactional(async (tx) => {
      for (const [profile, values] of targets) await services.profileWriter.write(tx, profile, userId, values, (field) => `${profile.name}.${field}`);
      await services.sessions.revokeAll(tx, userId);
      await services.events.emit(tx, {
        type: 'permission.changed',
        actorId: null,
        subjectId: userId,
        data: { action: 'user.flags', userId, flags: Object.assign({}, ...targets.values()), via: 'createsuperuser' },
      });
    });
  } catch (error) {
    await em.execute('delete from users where id = ?', [userId], 'run').catch(() => undefined);
    throw error;
  }
  return { id: userId, identifier: input.identifier };
}

interface Options {
  identifier?: string;
  email?: string;
  input: boolean;
}

async function run(options: Options, prompter: Prompter = terminalPrompter): Promise<void> {
  const env = process.env;
  const config = loadConfig();
  let identifier = options.identifier;
  let pw: string | undefined;
  let email = options.email;
  if (!options.input) {
    identifier ??= env[IDENTIFIER_ENV] || undefined;
    email ??= env[EMAIL_ENV] || undefined;
    pw = env[PASSWORD_ENV] || undefined;
    if (!identifier) throw new CommandError(`With --no-input, give the identifier with --identifier or ${IDENTIFIER_ENV}.`);
    if (!pw) throw new CommandError(`With --no-input, set the password in the environment variable ${PASSWORD_ENV}.`);
  } else if (!process.stdin.isTTY) {
    throw new CommandError(`createsuperuser prompts on a terminal, and standard input is not one. Use --no-input with ${PASSWORD_ENV} set.`);
  }
  const runtime = await openRuntime(config);
  try {
    superuserFlagTargets(runtime.registry); // fail before asking anything
    const profilesInput = emailProfilesInput(runtime, email);
    const em = runtime.db.orm.em.fork();
    const checks = credentialChecks(runtime, em, profilesInput);
    if (options.input) {
      ({ identifier, password: pw } = await promptCredentials(prompter, checks, identifier));
    } else {
      const reason = (await checks.identifier(identifier!)) ?? checks.password(pw!, identifier!);
      if (reason) throw new CommandError(reason);
    }
    const user = await createSuperuser(runtime, { identifier: identifier!, password: pw!, profiles: profilesInput });
    console.log(`Superuser "${user.identifier}" created (id ${user.id}).`);
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') throw new CommandError('Operation cancelled.');
    throw error;
  } finally {
    await runtime.close();
  }
}

/** Adds `createsuperuser` to the command line. */
export function registerCreateSuperuser(program: Command): void {
  program
    .command('createsuperuser')
    .description("Create a user with superuser and staff status (isSuperuser, isStaff, isActive), like Django's createsuperuser.")
    .option('-i, --identifier <identifier>', `identifier of the new user (prompted for when omitted; with --no-input also ${IDENTIFIER_ENV})`)
    .option('-e, --email <address>', `email address, stored in the mail profile (with --no-input also ${EMAIL_ENV})`)
    .option('--no-input', `do not prompt: the password comes from ${PASSWORD_ENV} (for scripts)`)
    .addHelpText(
      'after',
      `\nWithout --no-input the command asks for the identifier (unless given) and the password twice, without echo.\n` +
        `Examples:\n  npm run createsuperuser\n  ${PASSWORD_ENV}='…' npm run createsuperuser -- --no-input --identifier admin --email admin@example.com`,
    )
    .action((options: Options) => run(options));
}
