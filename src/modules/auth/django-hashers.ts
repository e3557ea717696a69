/**
 * Verifiers for the password hashes Django stores in `auth_user.password`, so that accounts
 * imported from a Django site can log in once and be upgraded to our argon2id hash (see
 * `PasswordHasher.verify`). Each verifier mirrors one class of
 * `django.contrib.auth.hashers` (Django 1.4 – 5.x) and accepts exactly the strings that class
 * writes, parsed strictly: a value that does not have the exact shape is not recognised, and an
 * unrecognised value never verifies.
 *
 * Supported (`identifyDjangoHash` name → stored shape):
 * - `pbkdf2_sha256` → `pbkdf2_sha256$<iterations>$<salt>$<base64 sha256 PBKDF2>`
 * - `pbkdf2_sha1`   → `pbkdf2_sha1$<iterations>$<salt>$<base64 sha1 PBKDF2>`
 * - `argon2`        → `argon2$argon2id$v=19$m=…,t=…,p=…$<b64 salt>$<b64 hash>` (also `argon2i`,
 *                     and the `v=`-less argon2 1.0 strings of argon2-cffi < 16.1)
 * - `bcrypt_sha256` → `bcrypt_sha256$$2b$<cost>$<53 chars>` (bcrypt of the SHA-256 hexdigest)
 * - `bcrypt`        → `bcrypt$$2b$<cost>$<53 chars>` (bcrypt of the password itself)
 * - `scrypt`        → `scrypt$<N>$<salt>$<r>$<p>$<base64 64-byte scrypt>` (Django ≥ 4.0)
 * - `sha1`          → `sha1$<salt>$<40 hex>`, sha1(salt + password)
 * - `md5`           → `md5$<salt>$<32 hex>`, md5(salt + password)
 * - `unsalted_sha1` → `sha1$$<40 hex>` (Django writes it under the `sha1` prefix, with an empty
 *                     salt; a literal `unsalted_sha1$$…` never verified in Django either)
 * - `unsalted_md5`  → bare `<32 hex>`, or `md5$$<32 hex>`
 *
 * Not supported: `crypt$$<crypt(3) string>` (`CryptPasswordHasher`, deprecated in Django 4.1 and
 * removed in 5.0). Django verifies it with the platform's crypt(3); npm offers no maintained
 * pure-JS or prebuilt crypt(3) (`unix-crypt-td-js` is DES-only and unmaintained, `crypt3` a
 * native binding without prebuilt binaries), so such values are unrecognised here: those users
 * must reset their password. Unusable (`!…`) and empty values are never recognised either.
 *
 * Salts and passwords are UTF-8 encoded, as Django's `force_bytes`/`str.encode()` do. Work factors
 * are read from the stored string, within sanity bounds (`MAX_*` below) so that a corrupt or
 * hostile imported row cannot make one login arbitrarily expensive; a value beyond them is not
 * recognised.
 */
import { createHash, pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';

/** Algorithm names of the supported Django hashers (each class's `algorithm` attribute). */
export type DjangoAlgorithm =
  'pbkdf2_sha256' | 'pbkdf2_sha1' | 'argon2' | 'bcrypt_sha256' | 'bcrypt' | 'scrypt' | 'sha1' | 'md5' | 'unsalted_sha1' | 'unsalted_md5';

/** Upper bound on PBKDF2 iterations (Django 5.2's default is 1,000,000). */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Upper bound on a bcrypt cost (Django's default is 12; each step doubles the work). */
export const MAX_BCRYPT_COST = 16;
/** Upper bounds on argon2 parameters (Django's default is m=102400 KiB, t=2, p=8). */
export const MAX_ARGON2 = { memoryKiB: 1_048_576, timeCost: 64, parallelism: 64 } as const;
/** Upper bound on scrypt memory, 128·N·r bytes (Django's default N=2^14, r=8 uses 16 MiB). */
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

/** A stored Django hash that has been recognised, bound to its verification. */
export interface ParsedDjangoHash {
  algorithm: DjangoAlgorithm;
  /** True for the deliberately slow hashers (PBKDF2, argon2, bcrypt, scrypt). */
  expensive: boolean;
  /** Resolves true when `password` matches; false (never a rejection) otherwise. */
  verify(password: string): Promise<boolean>;
}

/** One Django hasher: recognises its own stored shape and returns a bound verifier. */
export interface DjangoHasher {
  algorithm: DjangoAlgorithm;
  expensive: boolean;
  /** A verifier bound to `stored` when `stored` has exactly this hasher's shape, else undefined. */
  parse(stored: string): ((password: string) => Promise<boolean>) | undefined;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes standard padded base64 only when `text` is its canonical encoding (as Django writes it). */
function canonicalBase64(text: string, bytes: number): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64');
  return decoded.length === bytes && decoded.toString('base64') === text ? decoded : undefined;
}

/** Constant-time equality of two byte strings (false for different lengths). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function hexDigest(algorithm: 'md5' | 'sha1' | 'sha256', text: string): string {
  return createHash(algorithm).update(text, 'utf8').digest('hex');
}

function pbkdf2Async(password: string, salt: string, iterations: number, keylen: number, digest: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), iterations, keylen, digest, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function scryptAsync(password: string, salt: string, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), 64, { N: n, r, p, maxmem: 2 * MAX_SCRYPT_MEMORY }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

function makePbkdf2Hasher(algorithm: 'pbkdf2_sha256' | 'pbkdf2_sha1', digest: 'sha256' | 'sha1', size: number): DjangoHasher {
  const shape = new RegExp(`^${algorithm}\\$([1-9][0-9]{0,9})\\$([^$]+)\\$([^$]+)$`);
  return {
    algorithm,
    expensive: true,
    parse(stored) {
      const match = shape.exec(stored);
      if (!match) return undefined;
      const [, iterationsText = '', salt = '', hashText = ''] = match;
      const iterations = Number(iterationsText);
      const expected = canonicalBase64(hashText, size);
      if (iterations > MAX_PBKDF2_ITERATIONS || !expected) return undefined;
      return async (password) => sameBytes(await pbkdf2Async(password, salt, iterations, size, digest), expected);
    },
  };
}

/**
 * Mirrors `django.contrib.auth.hashers.PBKDF2PasswordHasher` (Django's default hasher).
 * Stored: `pbkdf2_sha256$<iterations>$<salt>$<hash>`, where hash is the standard padded base64
 * of PBKDF2-HMAC-SHA256(password, salt, iterations, dklen = 32).
 */
export const pbkdf2Sha256Hasher = makePbkdf2Hasher('pbkdf2_sha256', 'sha256', 32);

/**
 * Mirrors `django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher`.
 * Stored: `pbkdf2_sha1$<iterations>$<salt>$<hash>`, where hash is the standard padded base64 of
 * PBKDF2-HMAC-SHA1(password, salt, iterations, dklen = 20).
 */
export const pbkdf2Sha1Hasher = makePbkdf2Hasher('pbkdf2_sha1', 'sha1', 20);

const ARGON2_SHAPE =
  /^argon2\$(argon2id|argon2i)\$(?:v=(?:16|19)\$)?m=([1-9][0-9]{0,9}),t=([1-9][0-9]{0,4}),p=([1-9][0-9]{0,4})\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/**
 * Mirrors `django.contrib.auth.hashers.Argon2PasswordHasher` (argon2-cffi). Django stores
 * `"argon2"` followed by argon2-cffi's PHC string with its leading `$`:
 * `argon2$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<b64 salt>$<b64 hash>` (unpadded base64).
 * Django ≤ 3.1 wrote `argon2$argon2i$…`, and argon2-cffi < 16.1 omitted `v=` (version 1.0, 0x10).
 * Verified with the `argon2` package on the PHC string, i.e. `"$" + stored.slice("argon2".length + 1)`.
 */
export const argon2Hasher: DjangoHasher = {
  algorithm: 'argon2',
  expensive: true,
  parse(stored) {
    const match = ARGON2_SHAPE.exec(stored);
    if (!match) return undefined;
    const [m, t, p] = [Number(match[2]), Number(match[3]), Number(match[4])];
    if (m > MAX_ARGON2.memoryKiB || t > MAX_ARGON2.timeCost || p > MAX_ARGON2.parallelism) return undefined;
    const phc = stored.slice('argon2'.length);
    return (password) => argon2.verify(phc, password);
  },
};

function makeBcryptHasher(algorithm: 'bcrypt_sha256' | 'bcrypt', prehash: boolean): DjangoHasher {
  const shape = new RegExp(`^${algorithm}\\$(\\$2[aby]\\$([0-9]{2})\\$[./A-Za-z0-9]{53})$`);
  return {
    algorithm,
    expensive: true,
    parse(stored) {
      const match = shape.exec(stored);
      if (!match) return undefined;
      const [, data = '', costText = ''] = match;
      const cost = Number(costText);
      if (cost < 4 || cost > MAX_BCRYPT_COST) return undefined;
      return (password) => bcrypt.compare(prehash ? hexDigest('sha256', password) : password, data);
    },
  };
}

/**
 * Mirrors `django.contrib.auth.hashers.BCryptSHA256PasswordHasher`. Stored:
 * `bcrypt_sha256$<bcrypt string>`, i.e. `bcrypt_sha256$$2b$<cost>$<22-char salt><31-char hash>`,
 * the bcrypt of the password's SHA-256 hexdigest (64 lowercase hex characters), which avoids
 * bcrypt's 72-byte truncation.
 */
export const bcryptSha256Hasher = makeBcryptHasher('bcrypt_sha256', true);

/**
 * Mirrors `django.contrib.auth.hashers.BCryptPasswordHasher`. Stored: `bcrypt$<bcrypt string>`,
 * i.e. `bcrypt$$2b$<cost>$<22-char salt><31-char hash>`, the bcrypt of the UTF-8 password
 * (truncated by bcrypt at 72 bytes). `$2a$` and `$2y$` strings are accepted too.
 */
export const bcryptHasher = makeBcryptHasher('bcrypt', false);

const SCRYPT_SHAPE = /^scrypt\$([1-9][0-9]{0,9})\$([^$]+)\$([1-9][0-9]{0,3})\$([1-9][0-9]{0,3})\$([^$]+)$/;

/**
 * Mirrors `django.contrib.auth.hashers.ScryptPasswordHasher` (Django ≥ 4.0). Stored:
 * `scrypt$<N>$<salt>$<r>$<p>$<hash>`, where hash is the standard padded base64 of
 * scrypt(password, salt, N, r, p, dklen = 64).
 */
export const scryptHasher: DjangoHasher = {
  algorithm: 'scrypt',
  expensive: true,
  parse(stored) {
    const match = SCRYPT_SHAPE.exec(stored);
    if (!match) return undefined;
    const [, nText = '', salt = '', rText = '', pText = '', hashText = ''] = match;
    const [n, r, p] = [Number(nText), Number(rText), Number(pText)];
    const expected = canonicalBase64(hashText, 64);
    const powerOfTwo = n > 1 && (n & (n - 1)) === 0;
    if (!expected || !powerOfTwo || 128 * n * r > MAX_SCRYPT_MEMORY || p > 16) return undefined;
    return async (password) => sameBytes(await scryptAsync(password, salt, n, r, p), expected);
  },
};

function makeSaltedDigestHasher(algorithm: 'sha1' | 'md5', hexLength: number): DjangoHasher {
  const shape = new RegExp(`^${algorithm}\\$([^$]+)\\$([0-9a-f]{${hexLength}})$`);
  return {
    algorithm,
    expensive: false,
    parse(stored) {
      const match = shape.exec(stored);
      if (!match) return undefined;
      const [, salt = '', hex = ''] = match;
      return async (password) => sameBytes(Buffer.from(hexDigest(algorithm, salt + password)), Buffer.from(hex));
    },
  };
}

/**
 * Mirrors `django.contrib.auth.hashers.SHA1PasswordHasher`. Stored: `sha1$<salt>$<hex>`, where hex
 * is the lowercase hexdigest of SHA-1(salt + password) over UTF-8. Cheap: upgraded at first login.
 */
export const sha1Hasher = makeSaltedDigestHasher('sha1', 40);

/**
 * Mirrors `django.contrib.auth.hashers.MD5PasswordHasher`. Stored: `md5$<salt>$<hex>`, where hex
 * is the lowercase hexdigest of MD5(salt + password) over UTF-8. Cheap: upgraded at first login.
 */
export const md5Hasher = makeSaltedDigestHasher('md5', 32);

function makeUnsaltedHasher(algorithm: 'unsalted_sha1' | 'unsalted_md5', digest: 'sha1' | 'md5', shape: RegExp): DjangoHasher {
  return {
    algorithm,
    expensive: false,
    parse(stored) {
      const hex = shape.exec(stored)?.[1];
      if (hex === undefined) return undefined;
      return async (password) => sameBytes(Buffer.from(hexDigest(digest, password)), Buffer.from(hex));
    },
  };
}

/**
 * Mirrors `django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher` (removed in Django 5.1).
 * Stored: `sha1$$<hex>` (46 characters), the lowercase hexdigest of SHA-1(password).
 */
export const unsaltedSha1Hasher = makeUnsaltedHasher('unsalted_sha1', 'sha1', /^sha1\$\$([0-9a-f]{40})$/);

/**
 * Mirrors `django.contrib.auth.hashers.UnsaltedMD5PasswordHasher` (removed in Django 5.1).
 * Stored: the bare lowercase hexdigest of MD5(password) (32 characters, no `$`), or the same
 * after `md5$$` (37 characters), which Django also accepts.
 */
export const unsaltedMd5Hasher = makeUnsaltedHasher('unsalted_md5', 'md5', /^(?:md5\$\$)?([0-9a-f]{32})$/);

/** Every supported hasher. The shapes are disjoint, so the order does not matter. */
export const DJANGO_HASHERS: readonly DjangoHasher[] = [
  pbkdf2Sha256Hasher,
  pbkdf2Sha1Hasher,
  argon2Hasher,
  bcryptSha256Hasher,
  bcryptHasher,
  scryptHasher,
  sha1Hasher,
  md5Hasher,
  unsaltedSha1Hasher,
  unsaltedMd5Hasher,
];

/**
 * Recognises a stored Django hash (any shape listed in this module's docstring) and binds its
 * verification; undefined for anything else, including `crypt$$…`, `!…`, `""` and our own
 * `$argon2…` strings. The returned `verify` never rejects: any library error is a mismatch.
 */
export function parseDjangoHash(stored: string): ParsedDjangoHash | undefined {
  for (const hasher of DJANGO_HASHERS) {
    const check = hasher.parse(stored);
    if (check) {
      return {
        algorithm: hasher.algorithm,
        expensive: hasher.expensive,
        verify: async (password) => {
          try {
            return (await check(password)) === true;
          } catch {
            return false;
          }
        },
      };
    }
  }
  return undefined;
}

/**
 * The Django algorithm name of `stored` (as `django.contrib.auth.hashers.identify_hasher` would
 * name it: `pbkdf2_sha256`, `pbkdf2_sha1`, `argon2`, `bcrypt_sha256`, `bcrypt`, `scrypt`, `sha1`,
 * `md5`, `unsalted_sha1`, `unsalted_md5`) when it has exactly the shape that hasher writes (see
 * the module docstring) within the sanity bounds; undefined otherwise.
 */
export function identifyDjangoHash(stored: string): DjangoAlgorithm | undefined {
  return parseDjangoHash(stored)?.algorithm;
}

/**
 * True when `password` matches the Django hash `stored` (mirroring
 * `django.contrib.auth.hashers.check_password` for the supported hashers); false for a wrong
 * password, a tampered or unrecognised value (see {@link identifyDjangoHash}). Never rejects.
 */
export async function verifyDjangoHash(stored: string, password: string): Promise<boolean> {
  const parsed = parseDjangoHash(stored);
  return parsed ? parsed.verify(password) : false;
}
