// Dependency rules for src/, checked by `npm run deps:check`
// (depcruise src --config .dependency-cruiser.cjs). Type-only imports count as dependencies.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere in src/ (type-only imports included).',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'engine-below-modules',
      severity: 'error',
      comment:
        'src/profiles/ is the profile engine: it may import only src/profiles/, src/errors.ts, npm packages and node built-ins — nothing else from src/.',
      from: { path: '^src/profiles/' },
      to: { path: '^src/', pathNot: ['^src/profiles/', '^src/errors\\.ts$'] },
    },
    {
      name: 'modules-not-context',
      severity: 'error',
      comment: 'Feature modules must not reach up into the wiring: context, services, schema, app or main.',
      from: { path: '^src/modules/' },
      to: { path: '^src/(context|services|schema|app|main)\\.ts$' },
    },
    {
      name: 'src-not-test-or-bench',
      severity: 'error',
      comment: 'Production code in src/ must not import test/ or bench/ (colocated *.test.ts files may use test helpers).',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'warn',
      comment: 'An import that does not resolve hides its edge from the rules above (tsc reports it as an error too).',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
