/**
 * Thrown when a command needs a package that only a full `npm install` brings: a production
 * install (`npm ci --omit=dev`, the Docker image) leaves out `@faker-js/faker` (`seed:demo`) and
 * `@inquirer/*` (the interactive prompts of `createsuperuser`).
 */
export class MissingDevDependencyError extends Error {
  constructor(packageName: string, use: string) {
    super(`${use} needs ${packageName}, a development dependency that a production install (npm ci --omit=dev) leaves out; run it from a full \`npm install\``);
    this.name = 'MissingDevDependencyError';
  }
}

/**
 * `import(packageName)`, with a missing package turned into {@link MissingDevDependencyError}
 * naming `use` (e.g. "seed:demo"). Other import errors are rethrown unchanged.
 */
export async function importDevDependency<T>(packageName: string, use: string): Promise<T> {
  try {
    return (await import(packageName)) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new MissingDevDependencyError(packageName, use);
    throw error;
  }
}
