import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `npm run bench`: the hot-path table of issue #11 (hot-paths.bench.ts). `npm run bench -- <name>…`
// runs the bench/*.bench.ts files whose names start with one of the names (`all`: every one).
// Each runs in its own process pinned to CPU 1 where taskset exists, so the servers they start
// (and their Postgres) have CPU 0.
const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.length > 2 ? process.argv.slice(2) : ['hot-paths'];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.includes('all') || wanted.some((w) => f.startsWith(w)))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const result = spawnSync('taskset', ['-c', '1', process.execPath, '--import', 'tsx', `bench/${file}`], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
