// The licence notices of the third-party packages a bundle contains. esbuild bundles every
// runtime dependency into dist/ (and into the single executable), so the package and the release
// carry their licences in one file instead of their node_modules directories.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes THIRD-PARTY-LICENSES.txt for the packages whose files are inputs of `metafile` (an
 * esbuild metafile; input paths relative to `root`): name, version, licence id and the text of
 * its LICENSE/LICENCE/COPYING file, sorted by name. Throws when a bundled package has no licence
 * file and no licence id, so nothing ships without its notice.
 * @param {{ inputs: Record<string, unknown> }} metafile
 * @param {string} file the output path
 * @param {string} root the directory esbuild ran in
 * @returns {string[]} the package names
 */
export function writeThirdPartyLicenses(metafile, file, root) {
  const dirs = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input.replace(/^[a-z-]+:/, ''));
    if (m) dirs.set(m[1], join(root, input.slice(0, input.lastIndexOf(`node_modules/${m[1]}/`)), 'node_modules', m[1]));
  }
  const sections = [];
  for (const [name, dir] of [...dirs].sort(([a], [b]) => a.localeCompare(b))) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const licenseFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
    if (!licenseFile && !pkg.license) throw new Error(`licenses: ${name} has no licence file and no licence id`);
    const text = licenseFile ? readFileSync(join(dir, licenseFile), 'utf8').trim() : `(no licence file; package.json says ${pkg.license})`;
    sections.push(`${name}@${pkg.version} (${pkg.license ?? 'see text'})\n\n${text}\n`);
  }
  const header = 'sts-doctor bundles the following third-party packages. Their licence notices follow.\n';
  writeFileSync(file, `${header}\n${sections.map((s) => `${'='.repeat(78)}\n${s}`).join('\n')}`);
  return [...dirs.keys()];
}

