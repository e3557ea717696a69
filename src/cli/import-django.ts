import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { importDjango, ImportSourceError, type ImportReport } from '../modules/importer/django-importer.ts';
import { openRuntime } from './runtime.ts';

/** `import:django --from <url> [--dry-run] [--batch-size n]`: see {@link importDjango}. */
export function registerImportDjango(program: Command): void {
  program
    .command('import:django')
    .description(
      'Import users, groups and permissions from a Django database (auth_user, auth_group, auth_permission, …). ' +
        'Re-runnable; keeps Django ids and password hashes (upgraded to argon2id at each login).',
    )
    .requiredOption('--from <url>', 'postgres:// URL of the Django database')
    .option('--dry-run', 'run every statement, then roll back; report what would change')
    .option('--batch-size <n>', 'users per batch', (v) => Number.parseInt(v, 10), 2000)
    .action(async (options: { from: string; dryRun?: boolean; batchSize: number }) => {
      if (!/^postgres(ql)?:\/\//.test(options.from)) throw new ImportSourceError('--from must be a postgres:// URL.');
      if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new ImportSourceError('--batch-size must be a positive integer.');
      const runtime = await openRuntime(loadConfig());
      const bar = new SingleBar(
        {
          format: 'users {bar} {percentage}% | {value}/{total} | {duration_formatted}',
          stream: process.stderr,
          // Also in CI logs and pipes: a line every few seconds instead of a redrawn bar.
          noTTYOutput: true,
          notTTYSchedule: 3000,
        },
        Presets.shades_classic,
      );
      let started = false;
      const startedAt = Date.now();
      try {
        const report = await importDjango(runtime.db.orm.em.fork(), runtime.services.profileWriter, {
          from: options.from,
          dryRun: Boolean(options.dryRun),
          batchSize: options.batchSize,
          onProgress: (done, total) => {
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(done);
          },
        });
        if (started) bar.stop();
        printSummary(report, Date.now() - startedAt);
      } finally {
        if (started) bar.stop();
        await runtime.close();
      }
    });
}

/** Where addresses went, and the addresses several users share (with who keeps each in a unique field). */
function emailLines({ emails }: ImportReport): string[] {
  const { field, allauth, confirmed, shared } = emails;
  const lines = [
    `  emails:           ${field ? `${field} and account.email` : 'account.email'}` +
      (allauth ? `; allauth primary addresses, ${confirmed} confirmed` : '; no allauth table (auth_user.email)'),
  ];
  if (!shared.length) return lines;
  const listed = shared.slice(0, 20).map((s) => `${s.address} (users ${s.userIds.join(', ')})`);
  if (shared.length > 20) listed.push(`… and ${shared.length - 20} more`);
  lines.push(`  ${shared.length} ${shared.length === 1 ? 'address' : 'addresses'} shared by several users (case-insensitive): ${listed.join(', ')}`);
  const others = shared.flatMap((s) => (s.keptBy ? s.userIds.filter((id) => id !== s.keptBy) : []));
  if (others.length)
    lines.push(
      `    ${field} is unique: the lowest id keeps each there; in account.email only: users ${others.slice(0, 50).join(', ')}` +
        (others.length > 50 ? ` … and ${others.length - 50} more` : ''),
    );
  return lines;
}

function printSummary(report: ImportReport, ms: number): void {
  const lines = [
    `${report.dryRun ? 'Dry run (nothing written)' : 'Imported'} in ${(ms / 1000).toFixed(1)} s:`,
    `  users:            ${report.users.total} read, ${report.users.inserted} new, ${report.users.updated} updated, ${report.users.skipped} skipped`,
    `  permissions:      ${report.permissions}`,
    `  groups:           ${report.groups} (${report.groupPermissions} group permissions)`,
    `  memberships:      ${report.userGroups} user groups, ${report.userPermissions} user permissions`,
    ...emailLines(report),
  ];
  if (report.problems.length) {
    lines.push(`  problems (${report.problems.length}):`);
    for (const p of report.problems.slice(0, 50)) lines.push(`    ${p.table} id ${p.id}: ${p.reason}`);
    if (report.problems.length > 50) lines.push(`    … and ${report.problems.length - 50} more`);
  }
  console.log(lines.join('\n'));
}
