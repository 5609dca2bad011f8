// Bundles each test/*.test.ts for Node with esbuild, then runs them with node --test.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, '..', 'dist', 'test');
const tests = readdirSync(HERE).filter((name) => name.endsWith('.test.ts'));
rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: tests.map((name) => join(HERE, name)),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  packages: 'external',
  logLevel: 'warning',
});
const run = spawnSync(
  process.execPath,
  ['--test', '--test-timeout=30000', ...tests.map((name) => join(OUT, name.replace(/\.ts$/, '.mjs')))],
  { stdio: 'inherit' },
);
process.exit(run.status ?? 1);
