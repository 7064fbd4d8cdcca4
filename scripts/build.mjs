// Bundles src/cli/main.ts into dist/ with esbuild. One bundle for the command-line path and
// separate chunks for what is loaded lazily (ink and React for the interactive prompts, the
// YAML parser for dumps, the Kubernetes client for live reads), so a run parses only what it
// needs. Every runtime dependency is inside the bundle (none is external), so the npm package
// installs no dependencies. The bundle is written next to dist/ and swapped in, so a process running the old
// build never sees a half-written one.
import { build } from 'esbuild';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeThirdPartyLicenses } from './licenses.mjs';

const dist = new URL('../dist', import.meta.url);
const next = new URL(`../dist.tmp-${process.pid}`, import.meta.url);
const old = new URL(`../dist.old-${process.pid}`, import.meta.url);
await rm(next, { recursive: true, force: true });
const result = await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: next.pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies inside an ESM bundle call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __stsCreateRequire } from 'node:module'; const require = __stsCreateRequire(import.meta.url);",
  },
  define: { 'process.env.NODE_ENV': '"production"' },
  // ink imports its optional devtools only when DEV=true; it is not installed.
  external: ['react-devtools-core'],
  metafile: true,
});
// Every runtime dependency is bundled: their licence notices ship in one file next to the bundle.
writeThirdPartyLicenses(result.metafile, join(next.pathname, 'THIRD-PARTY-LICENSES.txt'), new URL('..', import.meta.url).pathname);
await rename(dist, old).catch((err) => {
  if (err.code !== 'ENOENT') throw err;
});
await rename(next, dist);
await rm(old, { recursive: true, force: true });
