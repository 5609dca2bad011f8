// Builds the tracker: dist/clickstream.js (classic script, defines window.clickstream),
// dist/clickstream.mjs (ES module for bundlers) and the copy the API serves,
// src/clickstream/api/static/clickstream.js, with a list of the inputs' hashes
// beside it that a Python unit test checks (so a stale bundle fails without Node).
//
//   node build.mjs           build, print the size, fail over the budget
//   node build.mjs --check   build in memory, fail if the committed bundle differs
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const STATIC = join(ROOT, 'src', 'clickstream', 'api', 'static');
const SERVED = join(STATIC, 'clickstream.js');
const INPUTS = join(STATIC, 'clickstream.js.inputs');
// The classic bundle, minified and gzipped (what a browser downloads).
const BUDGET_BYTES = 4096;

const check = process.argv.includes('--check');
const common = {
  entryPoints: [join(HERE, 'src', 'index.ts')],
  bundle: true,
  target: 'es2020',
  legalComments: 'none',
  charset: 'utf8',
  write: false,
  logLevel: 'warning',
};
const [classic, module] = await Promise.all([
  build({ ...common, format: 'iife', globalName: 'clickstream', minify: true }),
  build({ ...common, format: 'esm' }),
]);
const bundle = classic.outputFiles[0].contents;
const gzipped = gzipSync(bundle, { level: 9 }).length;
console.log(`clickstream.js: ${bundle.length} bytes minified, ${gzipped} bytes gzipped (budget ${BUDGET_BYTES})`);

// What the bundle is made of, as sha256sum would list it (paths from the project root).
function inputs() {
  const files = ['build.mjs', 'package-lock.json', 'tsconfig.json'];
  for (const name of readdirSync(join(HERE, 'src')).sort()) files.push(join('src', name));
  return files
    .map((file) => {
      const digest = createHash('sha256')
        .update(readFileSync(join(HERE, file)))
        .digest('hex');
      return `${digest}  ${relative(ROOT, join(HERE, file))}\n`;
    })
    .join('');
}

let failed = gzipped > BUDGET_BYTES;
if (failed) console.error(`over the size budget by ${gzipped - BUDGET_BYTES} bytes`);
if (check) {
  const read = (path) => {
    try {
      return readFileSync(path);
    } catch {
      return Buffer.alloc(0);
    }
  };
  if (!read(SERVED).equals(bundle) || read(INPUTS).toString() != inputs()) {
    console.error(`${relative(ROOT, SERVED)} is not what the build makes: run make sdk and commit it`);
    failed = true;
  }
} else if (!failed) {
  mkdirSync(join(HERE, 'dist'), { recursive: true });
  mkdirSync(STATIC, { recursive: true });
  writeFileSync(join(HERE, 'dist', 'clickstream.js'), bundle);
  writeFileSync(join(HERE, 'dist', 'clickstream.mjs'), module.outputFiles[0].contents);
  writeFileSync(SERVED, bundle);
  writeFileSync(INPUTS, inputs());
}
process.exit(failed ? 1 : 0);
