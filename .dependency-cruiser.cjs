/**
 * `npm run deps:check`: who may import whom (README, Architecture).
 * src/ is the domain and the API; jobs/ runs the background work and depends
 * on src/, never the other way round. src/ reaches the queue through its own
 * port (src/job-queue.ts), which jobs/ implements. Only the composition roots
 * below, entry points that nothing imports, wire jobs/ in.
 */
const compositionRoots = '^src/(server|bench/bench|import/import-cli)[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'src-not-to-jobs',
      comment: 'src/ must not import jobs/: enqueue through the JobQueue port of src/job-queue.ts (ctx.jobs).',
      severity: 'error',
      from: { path: '^src/', pathNot: compositionRoots },
      to: { path: '^jobs/' },
    },
    {
      name: 'nothing-imports-a-composition-root',
      comment: 'Entry points wire everything together; importing one would bring jobs/ into src/ again.',
      severity: 'error',
      from: {},
      to: { path: compositionRoots },
    },
    {
      name: 'code-not-to-tests',
      comment: 'Tests import the code, never the other way round.',
      severity: 'error',
      from: { path: '^(src|jobs)/' },
      to: { path: '^tests/' },
    },
    {
      name: 'no-circular',
      comment: 'Module cycles: split the shared part out, or move the dependency to the caller.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to no file (a typo, or a package missing from package.json).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a layer that needs another's types depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
