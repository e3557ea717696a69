/**
 * Test-only encoder of Django password hashes: produces the exact strings
 * `django.contrib.auth.hashers.make_password(password, salt, hasher=<algorithm>)` stores in
 * `auth_user.password`, for building fixtures of imported Django users. Implemented from the
 * published Django hasher classes, on different code than the verifiers in
 * src/modules/auth/django-hashers.ts where possible (argon2 comes from node:crypto's OpenSSL
 * argon2, bcrypt from bcryptjs's hashSync); src/modules/auth/django-hashers.test.ts pins it to
 * literal outputs of Django and Python's hashlib/crypt.
 *
 * Work factors default to small values so that tests are fast (Django's own defaults are far
 * higher); the verifiers read them from the string, so any value works. Synchronous.
 */
import { argon2Sync, createHash, pbkdf2Sync, randomInt, scryptSync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { DjangoAlgorithm } from '../../src/modules/auth/django-hashers.ts';

/** The algorithms {@link djangoHash} can write: every format the service verifies. */
export type DjangoHashAlgorithm = DjangoAlgorithm;

/** Work factors for {@link djangoHash}; each applies to the algorithms named. */
export interface DjangoHashOptions {
  /** pbkdf2_*: iterations (default 1000; Django 5.2 uses 1,000,000). */
  iterations?: number;
  /** bcrypt*: cost, 4–31 (default 4; Django uses 12). */
  rounds?: number;
  /** argon2: variety (default `argon2id`; Django ≤ 3.1 wrote `argon2i`). */
  variety?: 'argon2id' | 'argon2i';
  /** argon2: memory in KiB (default 64), passes (default 1), lanes (default 1); Django uses 102400, 2, 8. */
  memoryCost?: number;
  timeCost?: number;
  parallelism?: number;
  /** scrypt: N (default 1024), r (default 8), p (default 1); Django uses 2^14, 8, 1. */
  workFactor?: number;
  blockSize?: number;
  scryptParallelism?: number;
}

const SALT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const BCRYPT_CHARS = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number, alphabet: string): string {
  let text = '';
  for (let i = 0; i < length; i += 1) text += alphabet[randomInt(alphabet.length)];
  return text;
}

/** Django's `BasePasswordHasher.salt()`: 22 random characters of [a-zA-Z0-9] (≥ 128 bits). */
export function djangoSalt(): string {
  return randomString(22, SALT_CHARS);
}

const hex = (algorithm: 'md5' | 'sha1' | 'sha256', text: string) => createHash(algorithm).update(text, 'utf8').digest('hex');
const b64 = (bytes: Buffer) => bytes.toString('base64');
const b64NoPad = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

function bcryptString(password: string, salt: string | undefined, rounds: number): string {
  const salt22 = salt ?? `${randomString(21, BCRYPT_CHARS)}${'.Oeu'[randomInt(4)]}`;
  if (!/^[./A-Za-z0-9]{22}$/.test(salt22)) throw new Error('bcrypt salt must be 22 characters of [./A-Za-z0-9]');
  return bcrypt.hashSync(password, `$2b$${String(rounds).padStart(2, '0')}$${salt22}`);
}

/**
 * The Django hash of `password` with `algorithm`, as Django's hasher class writes it:
 * - `pbkdf2_sha256` / `pbkdf2_sha1` → `<algorithm>$<iterations>$<salt>$<base64 PBKDF2, dklen = digest size>`
 * - `argon2` → `argon2$argon2id$v=19$m=…,t=…,p=…$<b64 salt>$<b64 16-byte hash>` (unpadded base64)
 * - `bcrypt_sha256` → `bcrypt_sha256$$2b$<cost>$…` (bcrypt of the SHA-256 hexdigest); `bcrypt` → `bcrypt$$2b$<cost>$…`
 * - `scrypt` → `scrypt$<N>$<salt>$<r>$<p>$<base64 64-byte scrypt>`
 * - `sha1` / `md5` → `<algorithm>$<salt>$<hexdigest(salt + password)>`
 * - `unsalted_sha1` → `sha1$$<hexdigest(password)>`; `unsalted_md5` → the bare md5 hexdigest
 *
 * `salt` defaults to a random Django salt (ignored by the unsalted algorithms); it must not contain
 * `$`; argon2 needs at least 8 bytes. For bcrypt it is the 22-character bcrypt salt (default
 * random). Passwords and salts are UTF-8, as in Django.
 */
export function djangoHash(algorithm: DjangoHashAlgorithm, password: string, salt?: string, options: DjangoHashOptions = {}): string {
  if (salt !== undefined && (salt === '' || salt.includes('$'))) throw new Error('a Django salt is non-empty and has no "$"');
  const s = salt ?? djangoSalt();
  switch (algorithm) {
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1': {
      const iterations = options.iterations ?? 1000;
      const [digest, size] = algorithm === 'pbkdf2_sha256' ? (['sha256', 32] as const) : (['sha1', 20] as const);
      return `${algorithm}$${iterations}$${s}$${b64(pbkdf2Sync(password, s, iterations, size, digest))}`;
    }
    case 'argon2': {
      const variety = options.variety ?? 'argon2id';
      const [m, t, p] = [options.memoryCost ?? 64, options.timeCost ?? 1, options.parallelism ?? 1];
      const tag = argon2Sync(variety, {
        message: Buffer.from(password, 'utf8'),
        nonce: Buffer.from(s, 'utf8'),
        parallelism: p,
        tagLength: 16,
        memory: m,
        passes: t,
      });
      return `argon2$${variety}$v=19$m=${m},t=${t},p=${p}$${b64NoPad(Buffer.from(s, 'utf8'))}$${b64NoPad(tag)}`;
    }
    case 'bcrypt_sha256':
      return `bcrypt_sha256$${bcryptString(hex('sha256', password), salt, options.rounds ?? 4)}`;
    case 'bcrypt':
      return `bcrypt$${bcryptString(password, salt, options.rounds ?? 4)}`;
    case 'scrypt': {
      const [n, r, p] = [options.workFactor ?? 1024, options.blockSize ?? 8, options.scryptParallelism ?? 1];
      return `scrypt$${n}$${s}$${r}$${p}$${b64(scryptSync(password, s, 64, { N: n, r, p }))}`;
    }
    case 'sha1':
    case 'md5':
      return `${algorithm}$${s}$${hex(algorithm, s + password)}`;
    case 'unsalted_sha1':
      return `sha1$$${hex('sha1', password)}`;
    case 'unsalted_md5':
      return hex('md5', password);
  }
}
