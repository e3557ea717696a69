import { describe, expect, it } from 'vitest';
import { checkPassword } from './password-policy.ts';

const rules = { minLength: 12, maxLength: 128 as const };

describe('checkPassword', () => {
  it('accepts a long uncommon password unrelated to the identifier', () => {
    expect(checkPassword('tangerine orbit lantern 71', rules, ['alice'])).toBeUndefined();
  });
  it('enforces the configured minimum and the 128-character maximum, counting code points', () => {
    expect(checkPassword('elevenchars', rules)).toMatch(/at least 12/);
    expect(checkPassword('😀'.repeat(12), rules)).toBeUndefined();
    expect(checkPassword('x'.repeat(129), rules)).toMatch(/at most 128/);
  });
  it('refuses passwords on the shipped common-password list, whatever their case', () => {
    expect(checkPassword('QwErTy123456', rules)).toMatch(/too common/);
    expect(checkPassword('1qaz2wsx3edc', rules)).toMatch(/too common/);
  });
  it('refuses passwords too close to the identifier or its parts', () => {
    expect(checkPassword('grace.hopper1906', rules, ['grace.hopper@navy.example'])).toMatch(/too similar/);
    expect(checkPassword('Grace.Hopper.Navy', rules, ['grace.hopper.navy'])).toMatch(/too similar/);
    expect(checkPassword('hopper-hopper-hop', rules, ['hopper'])).toMatch(/too similar/);
    expect(checkPassword('violet submarine 8841', rules, ['grace.hopper'])).toBeUndefined();
  });
});

describe('checkPassword with a minimum strength', () => {
  const strict = { minLength: 15, maxLength: 128 as const, minStrength: 3 };
  it('refuses long but guessable passwords: digit runs, a common word with digits, the service name', () => {
    expect(checkPassword('password1234567', strict)).toMatch(/too easy to guess/);
    expect(checkPassword('1234567890123456', strict)).toMatch(/too easy to guess/);
    expect(checkPassword('profilegraph2024!', strict)).toMatch(/too easy to guess/);
  });
  it('counts the personal values as guessable words', () => {
    expect(checkPassword('featherstonehaugh77', strict)).toBeUndefined();
    expect(checkPassword('featherstonehaugh77', strict, ['wilhelmina.featherstonehaugh'])).toMatch(/too similar|too easy to guess/);
  });
  it('accepts a passphrase of unrelated words', () => {
    expect(checkPassword('tangerine orbit lantern 71', strict, ['alice'])).toBeUndefined();
  });
});
