// `npm run build:sea`: the single executable (Node SEA) for linux-x64, as a GitHub release and
// krew expect it:
//
//   release/sts-doctor_linux_amd64.tar.gz          kubectl-sts_doctor, kubectl_complete-sts_doctor (kubectl's
//                                                  plugin completion), LICENSE, THIRD-PARTY-LICENSES.txt
//   release/sts-doctor_linux_amd64.tar.gz.sha256   `<sha256>  sts-doctor_linux_amd64.tar.gz` (sha256sum -c)
//   release/kubectl-sts_doctor                     the executable itself (also run by the tests)
//
// Steps: esbuild bundles src/cli/main.ts into ONE CommonJS file (Node 20's SEA runs a CommonJS
// main script and cannot load chunks from disk or import() them, so nothing is split and nothing
// is external); `node --experimental-sea-config` turns it into a blob with a V8 code cache
// (useCodeCache: compiled functions are in the binary, so start-up skips most parsing);
// postject injects the blob into a stripped copy of this machine's node binary (which must be
// linux-x64).
//
// Top-level await does not fit CommonJS; three places are adapted here, for this bundle only:
// - src/cli/main.ts ends with `await run(process.argv)`: the SEA bundle calls it without awaiting
//   (run() never rejects: it maps every error to an exit code).
// - ink loads React devtools and its own package.json with top-level await when DEV=true: the
//   single executable has neither (a DEV=true run says so).
// - yoga-layout (ink's layout engine, for `recover`'s prompts) instantiates its WebAssembly with a
//   top-level await. Emscripten lets the caller instantiate the module itself
//   (Module.instantiateWasm), so the SEA bundle instantiates it synchronously with
//   `new WebAssembly.Instance` from the same embedded bytes, and gets the same Yoga object.
// And ws's and node-fetch's optional add-ons (bufferutil, utf-8-validate, encoding) are bundled as
// "not installed", so the SEA never require()s from disk (which would print a warning each run).
//
// No startup snapshot (useSnapshot): Node 20 warns that child_process (the Kubernetes client's
// exec credential plugins) is not verified in snapshots, and it started no faster here.
//
// Options: --skip-tar (only release/kubectl-sts_doctor).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeThirdPartyLicenses } from './licenses.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'release');
const work = join(out, 'sea');
const exe = join(out, 'kubectl-sts_doctor');
const artifact = 'sts-doctor_linux_amd64.tar.gz';
const require = createRequire(import.meta.url);

/**
 * Text replacements in one module of the SEA bundle only; each must match exactly once, so a
 * changed source fails the build instead of shipping unpatched.
 * @param {string} name the esbuild plugin's name
 * @param {RegExp} filter the module's path
 * @param {Array<[string, string]>} replacements
 */
function patch(name, filter, replacements) {
  return {
    name,
    setup(b) {
      b.onLoad({ filter }, (args) => {
        let src = readFileSync(args.path, 'utf8');
        for (const [from, to] of replacements) {
          if (src.split(from).length !== 2) throw new Error(`build-sea: "${from}" is not in ${args.path} exactly once; adapt scripts/build-sea.mjs`);
          src = src.replace(from, to);
        }
        return { contents: src, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
      });
    },
  };
}

// run() never rejects: it maps every error to an exit code.
const noTopLevelAwait = patch('sea-main', /src[\\/]cli[\\/]main\.ts$/, [['\nawait run(process.argv);', '\nvoid run(process.argv);']]);
// ink's React devtools and its package.json are loaded (with top-level await) only when DEV=true;
// the single executable has neither.
const inkNoDevtools = patch('sea-ink', /ink[\\/]build[\\/]reconciler\.js$/, [
  ["await import('./devtools.js');", "throw Object.assign(new Error('React devtools are not part of the single executable'), { code: 'ERR_MODULE_NOT_FOUND' });"],
  ['? await loadPackageJson()', '? { name: undefined, version: undefined }'],
]);

/**
 * Optional native add-ons that ws and node-fetch (inside @kubernetes/client-node) try to require()
 * in a try/catch. In a SEA, require() of anything but a built-in prints a warning on every run;
 * in the bundle they fail exactly as "not installed" does, without asking the file system.
 */
const optionalAbsent = {
  name: 'sea-optional-absent',
  setup(b) {
    b.onResolve({ filter: /^(bufferutil|utf-8-validate|encoding)$/ }, (args) => ({ path: args.path, namespace: 'sea-absent' }));
    b.onLoad({ filter: /.*/, namespace: 'sea-absent' }, (args) => ({
      loader: 'js',
      contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}' (not part of the single executable)`)}), { code: 'MODULE_NOT_FOUND' });`,
    }));
  },
};

/** yoga-layout without top-level await: the same wasm, instantiated synchronously. */
const yogaSync = {
  name: 'sea-yoga',
  setup(b) {
    b.onResolve({ filter: /^yoga-layout$/ }, () => ({ path: 'yoga-layout', namespace: 'sea-yoga' }));
    b.onLoad({ filter: /.*/, namespace: 'sea-yoga' }, () => {
      const dir = dirname(require.resolve('yoga-layout'));
      const binaries = join(dir, '..', 'binaries', 'yoga-wasm-base64-esm.js');
      const wasm = /"data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)"/.exec(readFileSync(binaries, 'utf8'));
      if (!wasm) throw new Error(`build-sea: no embedded wasm found in ${binaries}; adapt scripts/build-sea.mjs`);
      return {
        resolveDir: dir,
        loader: 'js',
        contents: `
import loadYoga from '../binaries/yoga-wasm-base64-esm.js';
import wrapAssembly from './wrapAssembly.js';
const bytes = Buffer.from(${JSON.stringify(wasm[1])}, 'base64');
const module = {
  instantiateWasm(imports, done) {
    done(new WebAssembly.Instance(new WebAssembly.Module(bytes), imports));
    return {};
  },
};
loadYoga(module);
if (!module.calledRun) throw new Error('yoga-layout did not initialise synchronously');
const Yoga = wrapAssembly(module);
export default Yoga;
export * from './generated/YGEnums.js';
`,
      };
    });
  },
};

/** Builds everything; returns the exit code. */
async function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    process.stderr.write(`build-sea: builds the linux-x64 executable from this machine's node; this is ${process.platform}-${process.arch}.\n`);
    return 2;
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const bundle = join(work, 'sts-doctor.cjs');
  const result = await build({
    entryPoints: ['src/cli/main.ts'],
    absWorkingDir: root,
    outfile: bundle,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"', 'import.meta.url': 'undefined' },
    external: ['react-devtools-core'],
    plugins: [noTopLevelAwait, inkNoDevtools, yogaSync, optionalAbsent],
  });

  const seaConfig = join(work, 'sea-config.json');
  const blob = join(work, 'sea-prep.blob');
  writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2));
  execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: ['ignore', 'ignore', 'inherit'] });

  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  // Symbols and debug info are of no use in a release and are ~12 MB of node's binary.
  if (spawnSync('strip', ['--version']).status === 0) execFileSync('strip', [exe]);
  // postject (LIEF) warns about ELF note sections it does not name; only a failure is shown.
  const inject = spawnSync(process.execPath, [require.resolve('postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { encoding: 'utf8' });
  if (inject.status !== 0) {
    process.stderr.write(`build-sea: postject failed (${inject.status}):\n${inject.stdout}${inject.stderr}`);
    return 2;
  }

  if (!process.argv.includes('--skip-tar')) {
    const stage = join(work, 'tar');
    mkdirSync(stage);
    copyFileSync(exe, join(stage, 'kubectl-sts_doctor'));
    copyFileSync(join(root, 'bin', 'kubectl_complete-sts_doctor'), join(stage, 'kubectl_complete-sts_doctor'));
    chmodSync(join(stage, 'kubectl_complete-sts_doctor'), 0o755);
    copyFileSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
    writeThirdPartyLicenses(result.metafile, join(stage, 'THIRD-PARTY-LICENSES.txt'), root);
    const tgz = join(out, artifact);
    execFileSync('tar', ['-czf', tgz, '--owner=0', '--group=0', '--numeric-owner', '-C', stage, 'kubectl-sts_doctor', 'kubectl_complete-sts_doctor', 'LICENSE', 'THIRD-PARTY-LICENSES.txt']);
    const sha = createHash('sha256').update(readFileSync(tgz)).digest('hex');
    writeFileSync(`${tgz}.sha256`, `${sha}  ${artifact}\n`);
    process.stdout.write(`${tgz}\n${sha}\n`);
  }
  return 0;
}

process.exitCode = await main();
