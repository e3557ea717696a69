import { describe, expect, it } from 'vitest';
import { checkIdentifier, identifierKey } from './identifier.ts';

describe('identifierKey', () => {
  it('makes case, NFKC compatibility forms and composition variants meet', () => {
    expect(identifierKey('José')).toBe(identifierKey('JOSE\u0301'));
    expect(identifierKey('\uff4a\uff4f\uff53\u00e9')).toBe(identifierKey('josé'));
    expect(identifierKey('Straße')).toBe(identifierKey('STRASSE'));
    expect(identifierKey('ﬁle')).toBe(identifierKey('FILE'));
  });
  it('keeps different identifiers apart', () => {
    expect(identifierKey('jose')).not.toBe(identifierKey('josé'));
  });
});

describe('checkIdentifier', () => {
  it('accepts ordinary identifiers and measures length after NFKC', () => {
    expect(checkIdentifier('ada@example.com', 150)).toBeUndefined();
    expect(checkIdentifier('x'.repeat(150), 150)).toBeUndefined();
    expect(checkIdentifier('x'.repeat(151), 150)).toHaveProperty('identifier');
  });
  it('refuses empty, padded and invisible-character identifiers', () => {
    expect(checkIdentifier('', 150)).toBeDefined();
    expect(checkIdentifier(' ada', 150)).toBeDefined();
    expect(checkIdentifier('a\u200Bda', 150)).toBeDefined();
    expect(checkIdentifier('a\u0000da', 150)).toBeDefined();
  });
});
