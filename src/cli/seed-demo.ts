import { randomBytes } from 'node:crypto';
import type { Faker } from '@faker-js/faker';
import type { EntityManager } from '@mikro-orm/postgresql';
import cliProgress from 'cli-progress';
import { importDevDependency } from './dev-dependency.ts';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import { checkPassword } from '../modules/auth/password-policy.ts';
import { checkIdentifier, identifierKey } from '../modules/users/identifier.ts';
import type { ProfileDefinition } from '../profiles/model.ts';
import type { ProfileRegistry } from '../profiles/registry.ts';
import { CommandError, createSuperuser, describeError, superuserFlagTargets } from './createsuperuser.ts';
import { openRuntime, type Runtime } from './runtime.ts';

/** The one password of every demo account (hashed once). */
/** The parts of `@faker-js/faker` the plan uses (a development dependency, loaded by {@link seedDemo}). */
type FakerModule = Pick<typeof import('@faker-js/faker'), 'Faker' | 'en' | 'base'>;

export const DEMO_PASSWORD = 'demo passphrase 2026';
/** Dates are drawn before this instant (or now, if earlier), so a seed always gives the same data. */
const REFERENCE_DATE = Date.UTC(2026, 10, 1);
/** Rows per multi-row INSERT. */
const BATCH = 500;
const DOMAINS = ['example.com', 'example.org', 'example.net'];
/** The demo groups and the (existing) permissions they get. */
const GROUPS: Record<string, string[]> = {
  editors: ['auth.view_user', 'auth.change_user', 'auth.view_group'],
  moderators: ['auth.view_user', 'audit.view_auditevent'],
};

export interface SeedOptions {
  users: number;
  seed: number;
  /** Mean follows per user. */
  follows: number;
}

interface Person {
  identifier: string;
  firstName: string;
  lastName: string;
  email: string;
  dateJoined: Date;
  lastLogin: Date | null;
  emailConfirmedAt: Date | null;
  bio: string | null;
  followRequiresConfirmation: boolean;
  isStaff: boolean;
  weight: number;
  id?: string;
}

interface PlannedFollow {
  follower: number;
  followee: number;
  status: 'PENDING' | 'CONFIRMED';
  createdAt: Date;
  confirmedAt: Date | null;
}

export interface SeedSummary {
  users: number;
  sampleIdentifiers: string[];
  profiles: { name: string; rows: number; note: string }[];
  follows: { confirmed: number; pending: number };
  groups: { name: string; members: number; permissions: string[] }[];
  superuser: string | null;
  superuserNote?: string;
  tag: string | null;
}

/** ASCII lower-case letters of a name, for identifiers and addresses. */
function slug(name: string): string {
  return (
    name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z]/g, '') || 'user'
  );
}

function later(faker: Faker, from: Date, maxHours: number, ceiling: number): Date {
  return new Date(Math.min(ceiling, from.getTime() + faker.number.int({ min: 60, max: maxHours * 3600 }) * 1000));
}

/**
 * The people and the follow graph of a seed, drawn in a fixed order whatever profiles are
 * installed, so one seed always gives the same data. Identifiers are
 * `firstname.lastname<n>` (`n` = 1…count), unique within the run by `n`. Follows towards a user
 * who requires confirmation (`confirmation.perUser`: the social profile's flag is stored and
 * read; `everyone`: FOLLOW_REQUIRES_CONFIRMATION) are sometimes still pending.
 */
export function planDemo(
  options: SeedOptions,
  confirmation: { everyone: boolean; perUser: boolean },
  fakerModule: FakerModule,
): { people: Person[]; follows: PlannedFollow[]; groups: Record<string, number[]> } {
  const { Faker: FakerClass, en, base } = fakerModule;
  const faker = new FakerClass({ locale: [en, base] });
  faker.seed(options.seed);
  const refDate = Math.min(Date.now(), REFERENCE_DATE);
  faker.setDefaultRefDate(refDate);
  const people: Person[] = [];
  for (let n = 1; n <= options.users; n++) {
    const firstName = faker.person.firstName();
    const lastName = faker.person.lastName();
    const identifier = `${slug(firstName)}.${slug(lastName)}${n}`;
    const dateJoined = faker.date.past({ years: 3 });
    const confirmed = faker.datatype.boolean(0.7);
    const loggedIn = faker.datatype.boolean(0.85);
    const bio = faker.datatype.boolean(0.75) ? faker.person.bio() : null;
    people.push({
      identifier,
      firstName,
      lastName,
      email: `${identifier}@${faker.helpers.arrayElement(DOMAINS)}`,
      dateJoined,
      emailConfirmedAt: confirmed ? later(faker, dateJoined, 48, refDate) : null,
      lastLogin: loggedIn ? faker.date.between({ from: dateJoined, to: refDate }) : null,
      bio,
      followRequiresConfirmation: faker.datatype.boolean(0.2),
      isStaff: false,
      // Heavy-tailed popularity: a few users gather many followers.
      weight: faker.number.float({ min: 0.02, max: 1 }) ** -1.3,
    });
  }
  const indices = people.map((_, i) => i);
  const members = faker.helpers.arrayElements(indices, Math.min(6, people.length));
  const groups = { editors: members.slice(0, 3), moderators: members.slice(3) };
  for (const i of members) people[i]!.isStaff = true;

  const cumulative: number[] = [];
  let total = 0;
  for (const p of people) cumulative.push((total += p.weight));
  const pick = (): number => {
    const r = faker.number.float({ min: 0, max: total });
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const follows: PlannedFollow[] = [];
  for (let follower = 0; follower < people.length; follower++) {
    const wanted = Math.min(people.length - 1, faker.number.int({ min: Math.max(0, options.follows - 5), max: options.follows + 5 }));
    const chosen = new Set<number>();
    for (let attempt = 0; chosen.size < wanted && attempt < wanted * 20; attempt++) {
      const followee = pick();
      if (followee !== follower) chosen.add(followee);
    }
    for (const followee of chosen) {
      const a = people[follower]!;
      const b = people[followee]!;
      const from = new Date(Math.max(a.dateJoined.getTime(), b.dateJoined.getTime()));
      const createdAt = faker.date.between({ from, to: refDate });
      const needsConfirmation = confirmation.everyone || (confirmation.perUser && b.followRequiresConfirmation);
      const pending = needsConfirmation && faker.datatype.boolean(0.4);
      follows.push({
        follower,
        followee,
        status: pending ? 'PENDING' : 'CONFIRMED',
        createdAt,
        confirmedAt: pending ? null : needsConfirmation ? later(faker, createdAt, 72, refDate) : createdAt,
      });
    }
  }
  return { people, follows, groups };
}

/** The values the demo gives a profile's row (only fields the profile defines are written). */
function profileValues(profile: ProfileDefinition, p: Person): Record<string, unknown> | undefined {
  let values: Record<string, unknown> | undefined;
  if (profile.name === 'account') {
    values = { firstName: p.firstName, lastName: p.lastName, email: p.email, isActive: true, isStaff: p.isStaff, isSuperuser: false, lastLogin: p.lastLogin };
  } else if (profile.name === 'mail') {
    values = { email: p.email, emailConfirmedAt: p.emailConfirmedAt };
  } else if (profile.name === 'social') {
    values = { bio: p.bio, followRequiresConfirmation: p.followRequiresConfirmation };
  } else if (profile.autoCreate) {
    values = {};
  }
  if (values && profile.fields.some((f) => f.name === 'dateJoined' && f.kind === 'datetime')) values.dateJoined = p.dateJoined;
  return values;
}

function chunks<T>(items: readonly T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function takenKeys(em: EntityManager, keys: readonly string[]): Promise<number> {
  let taken = 0;
  for (const part of chunks(keys, 1000)) {
    const rows = await em.execute<{ n: string }[]>(`select count(*) as n from users where identifier_key in (${part.map(() => '?').join(', ')})`, part);
    taken += Number(rows[0]?.n ?? 0);
  }
  return taken;
}

async function checkIdentifiers(config: Config, registry: ProfileRegistry, people: Person[]): Promise<void> {
  for (const p of people) {
    const problem = checkIdentifier(p.identifier, config.accounts.identifierMaxLength) ?? (await registry.checkIdentifier(p.identifier));
    if (problem) throw new CommandError(`The demo identifier "${p.identifier}" is refused: ${Object.values(problem)[0]}`);
  }
}

function progress(label: string, total: number) {
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(9)} [{bar}] {value}/{total}`, hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

/** Whether the follow service reads `followRequiresConfirmation` from the social profile the demo writes. */
function perUserConfirmation(registry: ProfileRegistry): boolean {
  try {
    return registry.resolveForRead('followRequiresConfirmation').profile.name === 'social';
  } catch {
    return false;
  }
}

/** Seeds the demo data set; see {@link registerSeedDemo}. */
export async function seedDemo(runtime: Runtime, options: SeedOptions): Promise<SeedSummary> {
  const { config, registry, services } = runtime;
  const em = runtime.db.orm.em.fork();
  const fakerModule = await importDevDependency<FakerModule>('@faker-js/faker', 'seed:demo');
  const { people, follows, groups } = planDemo(options, { everyone: config.followRequiresConfirmation, perUser: perUserConfirmation(registry) }, fakerModule);

  // Identifiers unique in this database: a run tag when an earlier run (or anyone) has one of them.
  let tag: string | null = null;
  const baseIdentifiers = people.map((p) => p.identifier);
  while (
    (await takenKeys(
      em,
      people.map((p) => identifierKey(p.identifier)),
    )) > 0
  ) {
    tag = randomBytes(2).toString('hex');
    people.forEach((p, i) => {
      p.identifier = `${baseIdentifiers[i]}-${tag}`;
      p.email = `${p.identifier}@${p.email.split('@')[1]}`;
    });
  }
  await checkIdentifiers(config, registry, people);
  const passwordHash = await services.passwords.hash(DEMO_PASSWORD);

  const profiles = registry.profiles.filter((profile) => people.length && profileValues(profile, people[0]!));
  const profileCounts = new Map<string, number>();
  let confirmed = 0;
  let pending = 0;
  await em.transactional(async (tx) => {
    const users = progress('users', people.length);
    for (const part of chunks(people)) {
      const params: unknown[] = [];
      const tuples = part.map((p) => {
        params.push(p.identifier, identifierKey(p.identifier), passwordHash, p.dateJoined.toISOString());
        return '(?, ?, ?, ?::timestamptz)';
      });
      const rows = await tx.execute<{ id: string; key: string }[]>(
        `insert into users (identifier, identifier_key, password, created_at) values ${tuples.join(', ')} returning id, identifier_key as key`,
        params,
      );
      const ids = new Map(rows.map((r) => [r.key, String(r.id)]));
      for (const p of part) p.id = ids.get(identifierKey(p.identifier));
      users.increment(part.length);
    }
    users.stop();

    const bar = progress('profiles', people.length * profiles.length);
    for (const profile of profiles) {
      let written = 0;
      for (const part of chunks(people)) {
        written += await services.profileWriter.writeMany(
          tx,
          profile,
          part.map((p) => ({ userId: p.id!, values: profileValues(profile, p)! })),
          'nothing',
        );
        bar.increment(part.length);
      }
      profileCounts.set(profile.name, written);
    }
    bar.stop();

    const followBar = progress('follows', follows.length);
    for (const part of chunks(follows)) {
      const params: unknown[] = [];
      const tuples = part.map((f) => {
        params.push(people[f.follower]!.id, people[f.followee]!.id, f.status, f.createdAt.toISOString(), f.confirmedAt?.toISOString() ?? null);
        return '(?, ?, ?, ?::timestamptz, ?::timestamptz)';
      });
      const rows = await tx.execute<{ status: string }[]>(
        `insert into follows (follower_id, followee_id, status, created_at, confirmed_at) values ${tuples.join(', ')}
         on conflict (follower_id, followee_id) do nothing returning status`,
        params,
      );
      for (const row of rows) {
        if (row.status === 'PENDING') pending++;
        else confirmed++;
      }
      followBar.increment(part.length);
    }
    followBar.stop();

    for (const [name, permissions] of Object.entries(GROUPS)) {
      await tx.execute('insert into groups (name) values (?) on conflict (name) do nothing', [name], 'run');
      await tx.execute(
        `insert into group_permissions (group_id, permission_id)
         select g.id, p.id from groups g join permissions p on p.app_label || '.' || p.codename in (${permissions.map(() => '?').join(', ')})
          where g.name = ? on conflict do nothing`,
        [...permissions, name],
        'run',
      );
      for (const i of groups[name] ?? []) {
        await tx.execute(
          'insert into user_groups (user_id, group_id) select ?, id from groups where name = ? on conflict do nothing',
          [people[i]!.id, name],
          'run',
        );
      }
    }
  });

  const groupSummary = [];
  for (const name of Object.keys(GROUPS)) {
    const rows = await em.execute<{ key: string }[]>(
      `select p.app_label || '.' || p.codename as key from group_permissions gp join groups g on g.id = gp.group_id
         join permissions p on p.id = gp.permission_id where g.name = ? order by key`,
      [name],
    );
    groupSummary.push({ name, members: groups[name]?.length ?? 0, permissions: rows.map((r) => r.key) });
  }

  // The demo superuser, through the real signup path.
  let superuser: string | null = null;
  let superuserNote: string | undefined;
  try {
    superuserFlagTargets(registry);
    let identifier = 'admin';
    while (await services.users.findByIdentifier(em, identifier)) identifier = `admin-${randomBytes(2).toString('hex')}`;
    superuser = (await createSuperuser(runtime, { identifier, password: DEMO_PASSWORD })).identifier;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    superuserNote = `no demo superuser: ${describeError(error)}`;
  }

  const notes: Record<string, string> = {
    account: `${people.filter((p) => p.isStaff).length} staff`,
    mail: `${people.filter((p) => p.emailConfirmedAt).length} confirmed`,
    social: `${people.filter((p) => p.followRequiresConfirmation).length} require follow confirmation`,
  };
  return {
    users: people.length,
    sampleIdentifiers: people.slice(0, 3).map((p) => p.identifier),
    profiles: profiles.map((p) => ({ name: p.name, rows: profileCounts.get(p.name) ?? 0, note: notes[p.name] ?? 'defaults' })),
    follows: { confirmed, pending },
    groups: groupSummary,
    superuser,
    ...(superuserNote ? { superuserNote } : {}),
    tag,
  };
}

/** A query to paste into the Playground, naming only installed profiles. */
export function sampleQuery(registry: ProfileRegistry): string {
  const account = registry.get('account') ? ' account { firstName lastName isStaff }' : '';
  const social = registry.get('social') ? ' social { bio followRequiresConfirmation }' : '';
  const order = registry.get('account') ? '{ field: "account.lastName" }' : '{ field: "createdAt", direction: DESC }';
  return [
    'query Demo {',
    `  me { identifier${account} followersCount followingCount followRequests { follower { identifier } } }`,
    `  users(first: 5, orderBy: [${order}]) {`,
    `    totalCount edges { node { id identifier${account}${social} followersCount followingCount } }`,
    '  }',
    ...(social
      ? [
          '  needConfirmation: users(first: 3, where: { data: [{ key: "social.followRequiresConfirmation", eq: true }] }) {',
          '    totalCount edges { node { identifier } }',
          '  }',
        ]
      : []),
    '}',
  ].join('\n');
}

function formatSummary(summary: SeedSummary, options: SeedOptions, runtime: Runtime): string {
  const { config } = runtime;
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const first = summary.sampleIdentifiers[0] ?? 'admin';
  const lines = [
    `Demo data seeded (seed ${options.seed}${summary.tag ? `, run tag "${summary.tag}"` : ''}):`,
    `  users       ${summary.users} (e.g. ${summary.sampleIdentifiers.map((s) => `"${s}"`).join(', ')})`,
    ...summary.profiles.map((p) => `  ${p.name.padEnd(11)} ${p.rows} rows (${p.note})`),
    `  follows     ${summary.follows.confirmed + summary.follows.pending} (${summary.follows.confirmed} confirmed, ${summary.follows.pending} pending)`,
    ...summary.groups.map((g) => `  group       ${g.name}: ${g.members} members, ${g.permissions.join(', ') || 'no permissions'}`),
    `  superuser   ${summary.superuser ?? `(${summary.superuserNote})`}`,
    `demo password: "${DEMO_PASSWORD}" (every demo user${summary.superuser ? ' and the superuser' : ''})`,
    '',
    `Try it in the Playground (http://${host}:${config.port}/graphql): log in with`,
    `  mutation { login(identifier: "${first}", password: "${DEMO_PASSWORD}") { token } }`,
    'then set the HTTP header {"Authorization": "Bearer <token>"} and run',
    ...sampleQuery(runtime.registry)
      .split('\n')
      .map((l) => `  ${l}`),
  ];
  return lines.join('\n');
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** Adds `seed:demo` to the command line. */
export function registerSeedDemo(program: Command): void {
  program
    .command('seed:demo')
    .description(
      'Fill the database with a reproducible demo data set: users with profiles, a follow graph, groups and a superuser, all with one known password.',
    )
    .option('-u, --users <count>', 'how many demo users', integer(1, 100_000), 200)
    .option('-s, --seed <number>', 'random seed (the same seed gives the same people and graph)', integer(0, 2 ** 31 - 1), 42)
    .option('-f, --follows <count>', 'mean number of users each demo user follows', integer(0, 1000), 8)
    .addHelpText(
      'after',
      `\nEvery demo account has the password "${DEMO_PASSWORD}". Identifiers are firstname.lastname<n>, with a run tag` +
        '\nappended when they exist already (a second run on the same database). Example:\n  npm run seed:demo -- --users 1000 --seed 7',
    )
    .action(async (options: SeedOptions) => {
      const config = loadConfig();
      const refused = checkPassword(DEMO_PASSWORD, config.passwords);
      if (refused) throw new CommandError(`The demo password "${DEMO_PASSWORD}" does not meet the password rules: ${refused}`);
      const runtime = await openRuntime(config);
      try {
        const summary = await seedDemo(runtime, options);
        console.log(formatSummary(summary, options, runtime));
      } finally {
        await runtime.close();
      }
    });
}
