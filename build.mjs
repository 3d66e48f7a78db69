// `npm run build`: bundles each production entry point with esbuild into dist/bin/NAME.js.
// Only our own code is bundled; packages stay imports that Node resolves from
// node_modules at run time (so the image needs `npm ci --omit=dev`, nothing else).
// Types are checked by `npm run typecheck`, not here.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: {
    server: 'src/server.ts',
    worker: 'jobs/worker-cli.ts',
    migrate: 'src/db/migrate-cli.ts',
    seed: 'src/demo/seed-cli.ts',
    import: 'src/import/import-cli.ts',
  },
  // Two levels below the root, like src/db/client.ts, whose '../../migrations' must find migrations/ from both.
  outdir: 'dist/bin',
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: true,
  logLevel: 'warning',
});
