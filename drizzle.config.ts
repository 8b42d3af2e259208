import { defineConfig } from 'drizzle-kit';

// Only `generate` is used, which diffs the TS schema against drizzle/meta and never connects;
// the app applies migrations itself at boot under an advisory lock (DATA-MODEL.md §Migrations).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
  strict: true,
  verbose: true,
});
