import { describe, expect, it } from 'vitest';
import { importDevDependency, MissingDevDependencyError } from './dev-dependency.ts';

describe('importDevDependency', () => {
  it('loads an installed package', async () => {
    const faker = await importDevDependency<typeof import('@faker-js/faker')>('@faker-js/faker', 'seed:demo');
    expect(typeof faker.Faker).toBe('function');
  });

  it('turns a package a production install left out into an error naming the command', async () => {
    const attempt = importDevDependency('@profilegraph/not-installed', 'seed:demo');
    await expect(attempt).rejects.toBeInstanceOf(MissingDevDependencyError);
    await expect(attempt).rejects.toThrow(/seed:demo needs @profilegraph\/not-installed, a development dependency .*npm ci --omit=dev/);
  });
});
