#!/usr/bin/env node
/*
 * Puts GraphQL Playground's prebuilt browser bundle into vendor/playground/ (git-ignored).
 *
 * Run by npm's `prepare` (so by every `npm install` / `npm ci` of this project, `--omit=dev`
 * included) and by hand with `npm run vendor:playground`. The bundle is the `build/` folder of
 * the graphql-playground-react package, fetched as a tarball with `npm pack` (npm's cache and
 * registry settings apply) and checked against the pinned sha512 integrity below. The package
 * is never installed: its dependency tree (React 15/16, a second graphql, dozens of invalid
 * peers) stays out of node_modules, so `npm ls` is clean without `legacy-peer-deps`.
 *
 * Kept: `static/{js,css,media}/*`, `favicon.png`, `logo.png` (what the page loads). Skipped
 * when vendor/playground/VERSION already names the pinned version, and under `npm … --dry-run`. Exit code 1 with one line
 * on stderr when the tarball cannot be fetched or does not match.
 */
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'graphql-playground-react';
const VERSION = '1.7.28';
/** `dist.integrity` of graphql-playground-react@1.7.28 in the npm registry. */
const INTEGRITY = 'sha512-YPR33Ph9kuKlFOMpc8mKGsL/fOiX0ltgzV1BokXYNsBLtTVQnhdCSKQuZg80CcxWKD8syNuWXDkGZSAdFkwmRg==';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'vendor', 'playground');
const versionFile = path.join(target, 'VERSION');
const force = process.argv.includes('--force');

function fail(message) {
  console.error(`vendor-playground: ${message}`);
  process.exit(1);
}

if (process.env.npm_config_dry_run === 'true') {
  console.log(`vendor-playground: dry run, would fetch ${PACKAGE}@${VERSION} into ${path.relative(root, target)}/`);
  process.exit(0);
}

if (!force && existsSync(versionFile) && readFileSync(versionFile, 'utf8').trim() === VERSION) {
  process.exit(0);
}

const work = mkdtempSync(path.join(tmpdir(), 'profilegraph-playground-'));
try {
  const npm = process.env.npm_execpath;
  // Inside an npm lifecycle script npm_execpath is npm's own CLI file: run it with this node.
  const [command, prefix] = npm && npm.endsWith('.js') ? [process.execPath, [npm]] : ['npm', []];
  let packed;
  try {
    const out = execFileSync(command, [...prefix, 'pack', `${PACKAGE}@${VERSION}`, '--pack-destination', work, '--json', '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    packed = JSON.parse(out)[0];
  } catch (err) {
    fail(
      `could not fetch ${PACKAGE}@${VERSION} with npm pack (${String(err.stderr ?? err.message)
        .trim()
        .split('\n')
        .pop()})`,
    );
  }
  const tarball = path.join(work, packed.filename);
  const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (digest !== INTEGRITY) fail(`${packed.filename} has integrity ${digest}, expected ${INTEGRITY}`);

  execFileSync('tar', ['-xzf', tarball, '-C', work, 'package/build/static', 'package/build/favicon.png', 'package/build/logo.png']);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(path.join(work, 'package', 'build'), target, { recursive: true });
  writeFileSync(versionFile, `${VERSION}\n`);
  console.log(`vendor-playground: ${PACKAGE}@${VERSION} bundle in ${path.relative(root, target)}/`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
