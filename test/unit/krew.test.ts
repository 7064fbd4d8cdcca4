// plugins/sts-doctor.yaml against what krew checks when it loads a manifest
// (kubernetes-sigs/krew pkg/index/validation), and in step with package.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ARTIFACT, PLUGIN_NAME, SHA256_PLACEHOLDER, renderKrewManifest, validateKrewManifest } from '../../scripts/krew-manifest.mjs';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const text = readFileSync(join(root, 'plugins', `${PLUGIN_NAME}.yaml`), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const manifest = parse(text) as any;
const validate = validateKrewManifest as (name: string, m: unknown) => string[];

describe('krew manifest', () => {
  it('is valid as krew validates a manifest, for the plugin name of its file', () => {
    expect(validate(PLUGIN_NAME, manifest)).toEqual([]);
    expect(manifest.apiVersion).toBe('krew.googlecontainertools.github.com/v1alpha2');
    expect(manifest.kind).toBe('Plugin');
    expect(manifest.metadata.name).toBe('sts-doctor');
  });

  it('is the one scripts/krew-manifest.mjs renders from package.json (run `npm run krew-manifest` after a version bump)', () => {
    expect(text).toBe((renderKrewManifest as (p: unknown, s: string) => string)(pkg, SHA256_PLACEHOLDER));
    expect(manifest.spec.version).toBe(`v${pkg.version}`);
  });

  it('points linux/amd64 at the GitHub release archive of this version, installing kubectl-sts_doctor', () => {
    expect(manifest.spec.platforms).toHaveLength(1);
    const [p] = manifest.spec.platforms;
    expect(p.selector).toEqual({ matchLabels: { os: 'linux', arch: 'amd64' } });
    expect(p.uri).toMatch(new RegExp(`^https://github\\.com/[\\w.-]+/[\\w.-]+/releases/download/v${pkg.version.replace(/\./g, '\\.')}/${ARTIFACT.replace(/\./g, '\\.')}$`));
    expect(p.bin).toBe('kubectl-sts_doctor');
    expect(p.files.map((f: { from: string }) => f.from)).toEqual(['kubectl-sts_doctor', 'kubectl_complete-sts_doctor', 'LICENSE', 'THIRD-PARTY-LICENSES.txt']);
    expect(p.sha256).toBe(SHA256_PLACEHOLDER);
  });

  // The validator must be able to fail: each broken variant names its problem.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const broken: [string, (m: any) => void, RegExp][] = [
    ['wrong apiVersion', (m) => (m.apiVersion = 'krew.googlecontainertools.github.com/v1alpha1'), /apiVersion/],
    ['wrong kind', (m) => (m.kind = 'Pluginx'), /kind/],
    ['name differs from the file', (m) => (m.metadata.name = 'sts_doctor'), /metadata\.name/],
    ['version without v', (m) => (m.spec.version = '0.1.0'), /semver/],
    ['version not semver', (m) => (m.spec.version = 'v1.2'), /semver/],
    ['no shortDescription', (m) => delete m.spec.shortDescription, /shortDescription/],
    ['no homepage', (m) => delete m.spec.homepage, /homepage/],
    ['no platforms', (m) => (m.spec.platforms = []), /platforms/],
    ['uppercase sha256', (m) => (m.spec.platforms[0].sha256 = 'A'.repeat(64)), /sha256/],
    ['short sha256', (m) => (m.spec.platforms[0].sha256 = 'abc'), /sha256/],
    ['no bin', (m) => delete m.spec.platforms[0].bin, /bin/],
    ['no files', (m) => (m.spec.platforms[0].files = []), /files/],
    ['no selector', (m) => delete m.spec.platforms[0].selector, /selector/],
    ['empty matchLabels', (m) => (m.spec.platforms[0].selector = { matchLabels: {} }), /matchLabels/],
    ['unsupported selector key', (m) => (m.spec.platforms[0].selector.matchLabels.platform = 'linux'), /"platform" is not supported/],
    ['unsupported expression key', (m) => (m.spec.platforms[0].selector = { matchExpressions: [{ key: 'distro', operator: 'In', values: ['x'] }] }), /"distro" is not supported/],
  ];
  it.each(broken)('rejects a manifest with %s', (_what, mutate, problem) => {
    const m = structuredClone(manifest);
    mutate(m);
    expect(validate(PLUGIN_NAME, m).join('\n')).toMatch(problem);
  });

  it('rejects an unsafe plugin name', () => {
    expect(validate('con', { ...manifest, metadata: { name: 'con' } }).join('\n')).toMatch(/not allowed/);
    expect(validate('a/b', { ...manifest, metadata: { name: 'a/b' } }).join('\n')).toMatch(/not allowed/);
  });
});
