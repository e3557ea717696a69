import { describe, expect, it } from 'vitest';
import { staticUserFields } from './schema.ts';

describe('staticUserFields', () => {
  it('reserves the names of User and UserWhere fields for profiles', () => {
    const names = staticUserFields();
    for (const name of ['id', 'identifier', 'data', 'dataAll', 'followers', 'groups', 'hasPerm', 'follows', 'followedBy', 'followStatus']) {
      expect(names).toContain(name);
    }
  });
});
