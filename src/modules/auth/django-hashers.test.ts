import argon2 from 'argon2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config.ts';
import { djangoHash, type DjangoHashAlgorithm } from '../../../test/helpers/django-hashes.ts';
import { identifyDjangoHash, MAX_BCRYPT_COST, MAX_PBKDF2_ITERATIONS, verifyDjangoHash } from './django-hashers.ts';
import { PasswordHasher } from './password-hasher.ts';

/**
 * Known-good Django outputs, produced independently of the code under test. "Django's tests"
 * vectors are literals of Django's tests/auth_tests/test_hashers.py (make_password("lètmein",
 * "seasalt", …) and the old argon2i hashes); the others were computed on this machine with
 * Python 3.11: hashlib.pbkdf2_hmac, and crypt.crypt (libxcrypt's bcrypt) for the bcrypt ones,
 * wrapped as Django's hasher classes do.
 */
const KNOWN: { algorithm: string; stored: string; password: string; source: string }[] = [
  {
    algorithm: 'pbkdf2_sha256',
    stored: 'pbkdf2_sha256$260000$seasalt$E2mD54hHRBD9/QaYlRQ0tKByc/hoeW8FUsx1qlfLA7A=',
    password: 'correct horse battery staple',
    source: "hashlib.pbkdf2_hmac('sha256', …, b'seasalt', 260000)",
  },
  {
    algorithm: 'pbkdf2_sha1',
    stored: 'pbkdf2_sha1$10000$seasalt2$N7hRfuxM6rtpHfhC4Nno2iyXeNo=',
    password: 'lètmein',
    source: "hashlib.pbkdf2_hmac('sha1', …, b'seasalt2', 10000)",
  },
  { algorithm: 'sha1', stored: 'sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8', password: 'lètmein', source: "Django's tests; hashlib.sha1" },
  { algorithm: 'md5', stored: 'md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3', password: 'lètmein', source: "Django's tests; hashlib.md5" },
  { algorithm: 'unsalted_md5', stored: '88a434c88cca4e900f7874cd98123f43', password: 'lètmein', source: "Django's tests; hashlib.md5" },
  { algorithm: 'unsalted_md5', stored: 'md5$$88a434c88cca4e900f7874cd98123f43', password: 'lètmein', source: "Django's tests" },
  { algorithm: 'unsalted_sha1', stored: 'sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b', password: 'lètmein', source: "Django's tests; hashlib.sha1" },
  {
    algorithm: 'scrypt',
    stored: 'scrypt$16384$seasalt$8$1$Qj3+9PPyRjSJIebHnG81TMjsqtaIGxNQG/aEB/NYafTJ7tibgfYz71m0ldQESkXFRkdVCBhhY8mx7rQwite/Pw==',
    password: 'lètmein',
    source: "Django's tests; hashlib.scrypt",
  },
  {
    algorithm: 'argon2',
    stored: 'argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg',
    password: 'secret',
    source: "Django's tests (argon2i without v=)",
  },
  {
    algorithm: 'argon2',
    stored: 'argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q',
    password: 'secret',
    source: "Django's tests (argon2i, v=19)",
  },
  {
    algorithm: 'bcrypt',
    stored: 'bcrypt$$2b$05$abcdefghijklmnopqrstuu2c1e4vZoCxDVRU9N6VCSSmNg4cQa1Ve',
    password: 'lètmein',
    source: "crypt.crypt('lètmein', '$2b$05$abcdefghijklmnopqrstuu')",
  },
  {
    algorithm: 'bcrypt_sha256',
    stored: 'bcrypt_sha256$$2b$05$abcdefghijklmnopqrstuuaQz6CVhbgRiZmnmiNLc9bv5cauhFkti',
    password: 'lètmein',
    source: "crypt.crypt(hashlib.sha256('lètmein'.encode()).hexdigest(), '$2b$05$abcdefghijklmnopqrstuu')",
  },
];

const ALGORITHMS: DjangoHashAlgorithm[] = [
  'pbkdf2_sha256',
  'pbkdf2_sha1',
  'argon2',
  'bcrypt_sha256',
  'bcrypt',
  'scrypt',
  'sha1',
  'md5',
  'unsalted_sha1',
  'unsalted_md5',
];

/** `stored` with one character of its final (hash) segment changed, keeping it well-formed. */
function tamper(stored: string): string {
  const at = stored.lastIndexOf('$') + 1 + Math.floor((stored.length - stored.lastIndexOf('$') - 1) / 2);
  return stored.slice(0, at) + (stored[at] === '0' ? '1' : '0') + stored.slice(at + 1);
}

describe('Django hashes: known-good vectors', () => {
  it.each(KNOWN)('$algorithm ($source) verifies its password and rejects others', async ({ algorithm, stored, password }) => {
    expect(identifyDjangoHash(stored)).toBe(algorithm);
    expect(await verifyDjangoHash(stored, password)).toBe(true);
    expect(await verifyDjangoHash(stored, `${password}z`)).toBe(false);
    expect(await verifyDjangoHash(stored, '')).toBe(false);
    expect(await verifyDjangoHash(tamper(stored), password)).toBe(false);
  });

  it('the test encoder reproduces the known vectors', () => {
    expect(djangoHash('pbkdf2_sha256', 'correct horse battery staple', 'seasalt', { iterations: 260000 })).toBe(KNOWN[0]?.stored);
    expect(djangoHash('pbkdf2_sha1', 'lètmein', 'seasalt2', { iterations: 10000 })).toBe(KNOWN[1]?.stored);
    expect(djangoHash('sha1', 'lètmein', 'seasalt')).toBe('sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8');
    expect(djangoHash('md5', 'lètmein', 'seasalt')).toBe('md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3');
    expect(djangoHash('unsalted_md5', 'lètmein')).toBe('88a434c88cca4e900f7874cd98123f43');
    expect(djangoHash('unsalted_sha1', 'lètmein')).toBe('sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b');
    expect(djangoHash('scrypt', 'lètmein', 'seasalt', { workFactor: 16384 })).toBe(KNOWN[7]?.stored);
    expect(djangoHash('bcrypt', 'lètmein', 'abcdefghijklmnopqrstuu', { rounds: 5 })).toBe(KNOWN[10]?.stored);
    expect(djangoHash('bcrypt_sha256', 'lètmein', 'abcdefghijklmnopqrstuu', { rounds: 5 })).toBe(KNOWN[11]?.stored);
  });
});

describe('Django hashes: every supported format, from the test encoder', () => {
  it.each(ALGORITHMS)('%s: right password verifies, wrong one and a tampered hash do not', async (algorithm) => {
    const password = 'Tr0ub4dor & 3 ✓ ünïcode';
    const stored = djangoHash(algorithm, password);
    expect(identifyDjangoHash(stored)).toBe(algorithm);
    expect(await verifyDjangoHash(stored, password)).toBe(true);
    expect(await verifyDjangoHash(stored, 'Tr0ub4dor & 3 ✓ unicode')).toBe(false);
    expect(await verifyDjangoHash(tamper(stored), password)).toBe(false);
  });

  it('reads the work factor from the string', async () => {
    for (const iterations of [1, 1234, 20000]) {
      const stored = djangoHash('pbkdf2_sha256', 'pw', 'salt', { iterations });
      expect(await verifyDjangoHash(stored, 'pw')).toBe(true);
      expect(await verifyDjangoHash(stored.replace(`$${iterations}$`, `$${iterations + 1}$`), 'pw')).toBe(false);
    }
    expect(await verifyDjangoHash(djangoHash('bcrypt', 'pw', undefined, { rounds: 6 }), 'pw')).toBe(true);
    const argon = djangoHash('argon2', 'pw', undefined, { memoryCost: 256, timeCost: 2, parallelism: 2 });
    expect(argon).toMatch(/^argon2\$argon2id\$v=19\$m=256,t=2,p=2\$/);
    expect(await verifyDjangoHash(argon, 'pw')).toBe(true);
    expect(await verifyDjangoHash(argon.replace('t=2', 't=3'), 'pw')).toBe(false);
    const argonI = djangoHash('argon2', 'pw', undefined, { variety: 'argon2i' });
    expect(argonI).toMatch(/^argon2\$argon2i\$v=19\$/);
    expect(await verifyDjangoHash(argonI, 'pw')).toBe(true);
    expect(await verifyDjangoHash(djangoHash('scrypt', 'pw', 'salt', { workFactor: 2048, blockSize: 4, scryptParallelism: 2 }), 'pw')).toBe(true);
  });

  it('fails tampered salts, costs and variants', async () => {
    const salted = djangoHash('sha1', 'pw', 'salt1');
    expect(await verifyDjangoHash(salted.replace('salt1', 'salt2'), 'pw')).toBe(false);
    const pbkdf2 = djangoHash('pbkdf2_sha256', 'pw', 'salt1');
    expect(await verifyDjangoHash(pbkdf2.replace('salt1', 'salt2'), 'pw')).toBe(false);
    expect(await verifyDjangoHash(pbkdf2.replace('pbkdf2_sha256', 'pbkdf2_sha1'), 'pw')).toBe(false);
    const bcrypt = djangoHash('bcrypt', 'pw', undefined, { rounds: 5 });
    expect(await verifyDjangoHash(bcrypt.replace('$05$', '$06$'), 'pw')).toBe(false);
    // The two bcrypt flavours are not interchangeable: bcrypt_sha256 hashes the SHA-256 hexdigest.
    expect(await verifyDjangoHash(bcrypt.replace(/^bcrypt\$/, 'bcrypt_sha256$'), 'pw')).toBe(false);
    const argon = djangoHash('argon2', 'pw');
    expect(await verifyDjangoHash(argon.replace('argon2id', 'argon2i'), 'pw')).toBe(false);
  });
});

describe('identifyDjangoHash', () => {
  it('names each supported shape', () => {
    expect(identifyDjangoHash('pbkdf2_sha256$600000$abc$E2mD54hHRBD9/QaYlRQ0tKByc/hoeW8FUsx1qlfLA7A=')).toBe('pbkdf2_sha256');
    expect(identifyDjangoHash('md5$$88a434c88cca4e900f7874cd98123f43')).toBe('unsalted_md5');
    expect(identifyDjangoHash('88a434c88cca4e900f7874cd98123f43')).toBe('unsalted_md5');
    expect(identifyDjangoHash('sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b')).toBe('unsalted_sha1');
    expect(identifyDjangoHash('bcrypt$$2a$12$abcdefghijklmnopqrstuu2c1e4vZoCxDVRU9N6VCSSmNg4cQa1Ve')).toBe('bcrypt');
  });

  it('recognises nothing else', () => {
    for (const stored of [
      '',
      '!',
      '!unusable',
      '!' + 'x'.repeat(40),
      'garbage',
      'plaintext-password',
      '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$YC9+jJCrQhs5R6db7LlN8Q', // ours, not Django's
      'crypt$$abprj99vCww4M', // CryptPasswordHasher: unsupported
      'unsalted_sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b', // Django never wrote or accepted this
      'unsalted_md5$$88a434c88cca4e900f7874cd98123f43',
      '88A434C88CCA4E900F7874CD98123F43', // Django's hexdigest is lowercase
      '88a434c88cca4e900f7874cd98123f4', // 31 hex digits
      'md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e', // short digest
      'sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700', // short digest
      'pbkdf2_sha256$260000$seasalt$E2mD54hHRBD9/QaYlRQ0tKByc/hoeW8FUsx1qlfLA7A', // unpadded base64
      'pbkdf2_sha256$260000$seasalt$E2mD54hHRBD9/QaYlRQ0tKByc/hoeW8FUsx1qlfLA7B=', // non-canonical base64
      'pbkdf2_sha256$0260000$seasalt$E2mD54hHRBD9/QaYlRQ0tKByc/hoeW8FUsx1qlfLA7A=', // Django writes %d
      'pbkdf2_sha256$260000$$E2mD54hHRBD9/QaYlRQ0tKByc/hoeW8FUsx1qlfLA7A=', // empty salt
      `pbkdf2_sha256$${MAX_PBKDF2_ITERATIONS + 1}$seasalt$E2mD54hHRBD9/QaYlRQ0tKByc/hoeW8FUsx1qlfLA7A=`,
      'pbkdf2_sha1$10000$seasalt2$E2mD54hHRBD9/QaYlRQ0tKByc/hoeW8FUsx1qlfLA7A=', // sha256-sized digest
      'pbkdf2_sha512$10000$seasalt2$N7hRfuxM6rtpHfhC4Nno2iyXeNo=', // not a Django hasher
      'bcrypt$2b$05$abcdefghijklmnopqrstuu2c1e4vZoCxDVRU9N6VCSSmNg4cQa1Ve', // missing the "$" of "$2b$"
      '$2b$05$abcdefghijklmnopqrstuu2c1e4vZoCxDVRU9N6VCSSmNg4cQa1Ve', // bare bcrypt
      `bcrypt$$2b$${MAX_BCRYPT_COST + 1}$abcdefghijklmnopqrstuu2c1e4vZoCxDVRU9N6VCSSmNg4cQa1Ve`,
      'bcrypt$$2x$05$abcdefghijklmnopqrstuu2c1e4vZoCxDVRU9N6VCSSmNg4cQa1Ve',
      'argon2$argon2d$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q', // Django never wrote argon2d
      'argon2$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q',
      'argon2$$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q',
      'scrypt$16383$seasalt$8$1$Qj3+9PPyRjSJIebHnG81TMjsqtaIGxNQG/aEB/NYafTJ7tibgfYz71m0ldQESkXFRkdVCBhhY8mx7rQwite/Pw==', // N not 2^k
      'scrypt$1048576$seasalt$8$1$Qj3+9PPyRjSJIebHnG81TMjsqtaIGxNQG/aEB/NYafTJ7tibgfYz71m0ldQESkXFRkdVCBhhY8mx7rQwite/Pw==', // 1 GiB
      'sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8$extra',
      ' sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8',
    ]) {
      expect(identifyDjangoHash(stored), stored).toBeUndefined();
    }
  });

  it('verifyDjangoHash refuses what it does not recognise, even with the right password', async () => {
    expect(await verifyDjangoHash('crypt$$abprj99vCww4M', 'lètmein')).toBe(false);
    expect(await verifyDjangoHash('unsalted_sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b', 'lètmein')).toBe(false);
    expect(await verifyDjangoHash('', '')).toBe(false);
  });
});

describe('PasswordHasher.verify with Django hashes', () => {
  const config = loadConfig({}).passwords;
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(ALGORITHMS)('%s: the right password is valid and asks for a rehash; a wrong one is invalid', async (algorithm) => {
    const hasher = new PasswordHasher(config);
    const stored = djangoHash(algorithm, 'imported password 1');
    expect(await hasher.verify(stored, 'imported password 1')).toEqual({ valid: true, needsRehash: true });
    expect(await hasher.verify(stored, 'imported password 2')).toEqual({ valid: false, needsRehash: false });
  });

  it('accepts the known Django vectors and upgrades them', async () => {
    const hasher = new PasswordHasher(config);
    for (const { stored, password } of KNOWN) {
      expect(await hasher.verify(stored, password), stored).toEqual({ valid: true, needsRehash: true });
    }
  });

  it('rejects unusable, empty, garbage, unsupported and missing values with exactly one argon2 verification each', async () => {
    const hasher = new PasswordHasher(config);
    await hasher.dummyHash();
    const spy = vi.spyOn(argon2, 'verify');
    for (const stored of ['!unusable', '', 'garbage', 'crypt$$abprj99vCww4M', 'md5$seasalt$nothex', undefined]) {
      spy.mockClear();
      expect(await hasher.verify(stored, 'lètmein'), String(stored)).toEqual({ valid: false, needsRehash: false });
      expect(spy, String(stored)).toHaveBeenCalledTimes(1);
    }
  });

  it('still verifies our own argon2id hashes without asking for a rehash', async () => {
    const hasher = new PasswordHasher(config);
    const ours = await hasher.hash('our password 1');
    expect(await hasher.verify(ours, 'our password 1')).toEqual({ valid: true, needsRehash: false });
    expect(await hasher.verify(ours, 'our password 2')).toEqual({ valid: false, needsRehash: false });
  });

  it('runs expensive Django verifications under the concurrency limit', async () => {
    const hasher = new PasswordHasher({ ...config, maxConcurrentHashes: 1 });
    const ours = await hasher.hash('our password 1');
    const django = djangoHash('argon2', 'imported password 1', undefined, { memoryCost: 4096, timeCost: 3 });
    const original = argon2.verify;
    let active = 0;
    let peak = 0;
    vi.spyOn(argon2, 'verify').mockImplementation(async (...args: Parameters<typeof argon2.verify>) => {
      active += 1;
      peak = Math.max(peak, active);
      try {
        return await original(...args);
      } finally {
        active -= 1;
      }
    });
    const results = await Promise.all([
      hasher.verify(django, 'imported password 1'),
      hasher.verify(ours, 'our password 1'),
      hasher.verify(django, 'imported password 1'),
    ]);
    expect(results.map((r) => r.valid)).toEqual([true, true, true]);
    expect(peak).toBe(1);
  });
});
