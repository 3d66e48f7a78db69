import { defineConfig } from 'drizzle-kit';

// drizzle-kit only diffs the schema to generate SQL into migrations/;
// the app applies them itself (src/db/migrate.ts), under an advisory lock.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
});
