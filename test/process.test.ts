import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';

/**
 * Starts `src/main.ts` (the entry point `npm start` runs compiled; here through tsx), with no database configured: it must
 * bring up the embedded PostgreSQL, apply migrations, serve, and stop cleanly on SIGTERM.
 */
it('serves on the embedded database with no configuration and shuts down gracefully on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', EMBEDDED_DATA_DIR: 'memory://' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const serving = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      const entry = JSON.parse(line) as { msg: string; url?: string };
      if (entry.msg === 'profilegraph is serving') resolve(entry.url!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before serving: ${stderr}`)));
  });
  const url = await serving;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ me { id } }' }),
  });
  expect(await res.json()).toEqual({ data: { me: null } });

  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
  expect(lines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
}, 60_000);

it('refuses to start on invalid configuration, naming every bad variable', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: 'http', DATABASE_URL: 'mysql://x', PASSWORD_MIN_LENGTH: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  expect(code).toBe(1);
  expect(stderr).toContain('Invalid configuration');
  for (const name of ['PORT', 'DATABASE_URL', 'PASSWORD_MIN_LENGTH']) expect(stderr).toContain(name);
}, 30_000);
