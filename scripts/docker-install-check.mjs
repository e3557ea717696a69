#!/usr/bin/env node
/*
 * Checks the Dockerfile's installs without Docker (CI machines have no Docker engine).
 *
 * For every stage of ./Dockerfile whose RUN line runs `npm ci`, this script copies exactly the
 * files that stage's COPY lines (those without --from) copied before that RUN into an empty
 * folder, at their destinations, and runs the same `npm ci …` there with `--dry-run` added.
 * A file the install needs but the Dockerfile does not copy, a COPY source that does not exist,
 * or a lockfile npm refuses makes it exit 1. Usage: `node scripts/docker-install-check.mjs`.
 */
import { execSync } from 'node:child_process';
import console from 'node:console';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');

/** Stages: `{ name, lines }`, one per FROM. */
const stages = [];
for (const line of dockerfile.split('\n').map((l) => l.trim())) {
  if (line === '' || line.startsWith('#')) continue;
  const from = line.match(/^FROM\s+\S+(?:\s+AS\s+(\S+))?/i);
  if (from) stages.push({ name: from[1] ?? `stage ${stages.length + 1}`, lines: [] });
  else stages.at(-1)?.lines.push(line);
}

let checked = 0;
let failed = false;
for (const stage of stages) {
  let workdir = '/';
  const copies = [];
  for (const line of stage.lines) {
    const workdirMatch = line.match(/^WORKDIR\s+(\S+)/i);
    if (workdirMatch) workdir = path.posix.resolve(workdir, workdirMatch[1]);
    const copy = line.match(/^COPY\s+(.*)$/i);
    if (copy && !/--from=/.test(copy[1])) {
      const parts = copy[1].split(/\s+/).filter((p) => !p.startsWith('--'));
      const dest = path.posix.resolve(workdir, parts.pop());
      copies.push({ sources: parts, dest, destIsDir: parts.length > 1 || copy[1].trim().endsWith('/') });
    }
    const run = line.match(/^RUN\s+(.*)$/i);
    const install = run?.[1]
      .split('&&')
      .map((c) => c.trim())
      .find((c) => /^npm ci\b/.test(c));
    if (!install) continue;

    const box = mkdtempSync(path.join(tmpdir(), 'docker-install-'));
    try {
      for (const { sources, dest, destIsDir } of copies) {
        for (const source of sources) {
          const from = path.join(root, source);
          if (!existsSync(from)) throw new Error(`${stage.name}: COPY source ${source} does not exist`);
          const into =
            destIsDir || statSync(from).isDirectory() ? path.join(box, dest, statSync(from).isDirectory() ? '' : path.basename(source)) : path.join(box, dest);
          cpSync(from, into, { recursive: true });
        }
      }
      const cwd = path.join(box, workdir);
      const command = `${install} --dry-run`;
      console.log(`docker install check, ${stage.name}: ${command} (in ${workdir}, with ${copies.flatMap((c) => c.sources).join(', ')})`);
      execSync(command, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
      checked++;
    } catch (error) {
      console.error(`docker install check, ${stage.name}: ${error.message}`);
      failed = true;
    } finally {
      rmSync(box, { recursive: true, force: true });
    }
  }
}

if (checked === 0 && !failed) {
  console.error('docker install check: no `RUN npm ci` found in the Dockerfile');
  failed = true;
}
process.exit(failed ? 1 : 0);
