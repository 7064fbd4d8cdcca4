// Bundles src/cli/main.ts into dist/ with esbuild. One bundle for the command-line path and
// separate chunks for what is loaded lazily (ink and React for the interactive prompts, the
// YAML parser for dumps, the Kubernetes client for live reads), so a run parses only what it
// needs. Every runtime dependency is inside the bundle (none is external), so the npm package
// installs no dependencies. The bundle is written next to dist/ and swapped in, so a process running the old
// build never sees a half-written one.
import { build } from 'esbuild';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeThirdPartyLicenses } from './licenses.mjs';

/**
 * sts-doctor uses only client-node's KubeConfig (src/kube/kubeconfig.ts: credentials, TLS
 * options, auth providers); its requests go through src/kube/client.ts. The package's root
 * module re-exports the whole generated API (about 700 KB minified) and KubeConfig's module
 * imports two helpers from it for `makeApiClient`, which sts-doctor never calls. This plugin
 * bundles `dist/config.js` for the package root and, for config.js's `./gen/index.js`, a stub
 * whose two exports say so if they are ever called. config.js also imports `Headers` from
 * node-fetch (with whatwg-url and tr46, about 300 KB) for `applyToFetchOptions`, also never
 * called: Node's own `Headers` stands in (looked up when constructed, not when loaded).
 *
 * KubeConfig comes twice. A static `import` of the package gets config.js without its auth
 * providers (azure, gcp, oidc, the legacy exec provider) and proxy agents (socks, hpagent), which
 * with their dependencies (openid-client, oauth4webapi, jsonpath-plus, socks, ip-address) cost
 * about 11 ms of every start-up (146 of its 198 KB). A dynamic `import()` of the package gets
 * config.js whole, in a chunk of its own: kubeconfig.ts `connectionConfig` loads it only for a
 * context whose user names an `auth-provider` or whose cluster names a `proxy-url`. The stand-ins
 * in the first refuse to work rather than do nothing (a user with an auth provider never reaches
 * them). Unbundled (the tests), both are the one real module.
 */
function kubeConfigOnly() {
  const pkg = new URL('../node_modules/@kubernetes/client-node/dist/', import.meta.url).pathname;
  const config = join(pkg, 'config.js');
  const LITE_OUT = /^(\.\/(azure_auth|gcp_auth|oidc_auth|exec_auth)\.js|socks-proxy-agent|hpagent)$/;
  return {
    name: 'kubeconfig-only',
    setup(b) {
      b.onResolve({ filter: /^@kubernetes\/client-node$/ }, (args) => (args.kind === 'dynamic-import' ? { path: config } : { path: config, namespace: 'kubeconfig-lite' }));
      b.onLoad({ filter: /.*/, namespace: 'kubeconfig-lite' }, async () => ({ contents: await readFile(config, 'utf8'), loader: 'js', resolveDir: pkg }));
      b.onResolve({ filter: LITE_OUT }, (args) => (args.namespace === 'kubeconfig-lite' ? { path: args.path, namespace: 'kubeconfig-only' } : undefined));
      b.onLoad({ filter: LITE_OUT, namespace: 'kubeconfig-only' }, () => ({
        contents:
          "const absent = (what) => { throw new Error(`${what} of client-node is loaded only for a context that names it (kubeconfig.ts connectionConfig)`); };\n" +
          "class NoProvider { isAuthProvider(user) { return user?.authProvider ? absent('the auth-provider support') : false; } }\n" +
          'export { NoProvider as AzureAuth, NoProvider as GoogleCloudPlatformAuth, NoProvider as OpenIDConnectAuth, NoProvider as ExecAuth };\n' +
          "class NoProxy { constructor() { absent('the proxy-url support'); } }\n" +
          'export { NoProxy as SocksProxyAgent, NoProxy as HttpProxyAgent, NoProxy as HttpsProxyAgent };\n',
        loader: 'js',
      }));
      b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) => (args.importer === config ? { path: 'client-node-gen', namespace: 'kubeconfig-only' } : undefined));
      b.onResolve({ filter: /^node-fetch$/ }, (args) => (args.importer === config ? { path: 'node-fetch', namespace: 'kubeconfig-only' } : undefined));
      // Read from globalThis only when constructed: the global's getter loads undici (about 9 ms of start-up).
      b.onLoad({ filter: /^node-fetch$/, namespace: 'kubeconfig-only' }, () => ({ contents: 'export class Headers { constructor(init) { return new globalThis.Headers(init); } }\n', loader: 'js' }));
      b.onLoad({ filter: /^client-node-gen$/, namespace: 'kubeconfig-only' }, () => ({
        contents:
          "const unbundled = () => { throw new Error('the generated Kubernetes API of client-node is not bundled in sts-doctor (KubeConfig.makeApiClient)'); };\n" +
          'export const createConfiguration = unbundled;\nexport class ServerConfiguration { constructor() { unbundled(); } }\n',
        loader: 'js',
      }));
    },
  };
}

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
  plugins: [kubeConfigOnly()],
});
// Every runtime dependency is bundled: their licence notices ship in one file next to the bundle.
writeThirdPartyLicenses(result.metafile, join(next.pathname, 'THIRD-PARTY-LICENSES.txt'), new URL('..', import.meta.url).pathname);
await rename(dist, old).catch((err) => {
  if (err.code !== 'ENOENT') throw err;
});
await rename(next, dist);
await rm(old, { recursive: true, force: true });
