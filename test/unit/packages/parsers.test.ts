import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGatewayError } from '../../../src/index.js';
import { parseSpecText, mergeSpecs, type ParsedSpecs } from '../../../src/packages/index.js';
import { packageFromUrl } from '../../../src/packages/package-url.js';

const MD5 = 'd7c89558ba9fa0495403155b64376d81';
const SHA = 'fe51de6107f9edc7aa4f786a70f4a883943bc9d39b3bb7307c04c41410990726';
const SHA2 = '73d5ef08a2b2e1b1f7e8c8b4e9a2d6c1f0e3b5a7c9d1e2f3a4b5c6d7e8f9a0b1';
const CF = 'https://conda.anaconda.org/conda-forge';

const EXPLICIT_MD5 = `# This file may be used to create an environment using:
# $ conda create --name <env> --file <this file>
# platform: linux-64
# created-by: conda 24.11.3
@EXPLICIT
${CF}/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2#${MD5}
${CF}/noarch/tzdata-2024b-hc8b5060_0.conda#8ac3367aafb1cc0a068483c580af8015
`;

const EXPLICIT_SHA = `# platform: linux-64
@EXPLICIT
${CF}/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2#sha256:${SHA}
${CF}/linux-64/libzlib-1.3.1-hb9d3cd8_2.conda
`;

const CONDA_LOCK = `version: 1
metadata:
  content_hash:
    linux-64: 0f3c5b6a
    osx-arm64: 1e2d3c4b
  channels:
  - url: conda-forge
    used_env_vars: []
  platforms:
  - linux-64
  - osx-arm64
  sources:
  - environment.yml
package:
- name: _libgcc_mutex
  version: '0.1'
  manager: conda
  platform: linux-64
  dependencies: {}
  url: ${CF}/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2
  hash:
    md5: ${MD5}
    sha256: ${SHA}
  category: main
  optional: false
- name: tzdata
  version: 2024b
  manager: conda
  platform: osx-arm64
  dependencies: {}
  url: ${CF}/noarch/tzdata-2024b-hc8b5060_0.conda
  hash:
    md5: 8ac3367aafb1cc0a068483c580af8015
    sha256: ${SHA2}
  category: main
  optional: false
- name: requests
  version: 2.32.3
  manager: pip
  platform: linux-64
  dependencies: {}
  url: https://files.pythonhosted.org/packages/requests-2.32.3-py3-none-any.whl
  hash:
    sha256: ${SHA2}
  category: main
  optional: false
`;

const PIXI_V6 = `version: 6
environments:
  default:
    channels:
    - url: ${CF}/
    packages:
      linux-64:
      - conda: ${CF}/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2
      - conda: ${CF}/noarch/tzdata-2024b-hc8b5060_0.conda
      - pypi: https://files.pythonhosted.org/packages/requests-2.32.3-py3-none-any.whl
      osx-arm64:
      - conda: ${CF}/noarch/tzdata-2024b-hc8b5060_0.conda
  test:
    channels:
    - url: ${CF}/
    packages:
      linux-64:
      - conda: ${CF}/noarch/tzdata-2024b-hc8b5060_0.conda
packages:
- conda: ${CF}/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2
  sha256: ${SHA}
  md5: ${MD5}
  arch: x86_64
  platform: linux
  license: None
  size: 2562
  timestamp: 1578324546067
- conda: ${CF}/noarch/tzdata-2024b-hc8b5060_0.conda
  sha256: ${SHA2}
  md5: 8ac3367aafb1cc0a068483c580af8015
  license: LicenseRef-Public-Domain
  noarch: generic
  size: 122354
  timestamp: 1728047496079
- pypi: https://files.pythonhosted.org/packages/requests-2.32.3-py3-none-any.whl
  name: requests
  version: 2.32.3
  sha256: ${SHA2}
`;

const PIXI_V5 = `version: 5
environments:
  default:
    channels:
    - url: ${CF}/
    packages:
      linux-64:
      - conda: ${CF}/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2
packages:
- kind: conda
  name: _libgcc_mutex
  version: '0.1'
  build: conda_forge
  subdir: linux-64
  url: ${CF}/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2
  sha256: ${SHA}
  md5: ${MD5}
  license: None
  size: 2562
  timestamp: 1578324546067
`;

const LINUX = ['linux-64', 'noarch'];

async function specError(text: string, file: string, opts = {}): Promise<{ message: string; line?: unknown }> {
  try {
    await parseSpecText(text, file, { platforms: LINUX, ...opts });
  } catch (err) {
    assert.ok(isGatewayError(err), 'a GatewayError');
    assert.equal(err.code, 'CG_SPEC_INVALID');
    return { message: err.message, line: err.details.line };
  }
  assert.fail('expected a spec error');
}

function names(parsed: ParsedSpecs): string[] {
  return parsed.packages.map((p) => p.fileName);
}

test('an explicit file with md5 fragments gives URLs, file names and md5s', async () => {
  const parsed = await parseSpecText(EXPLICIT_MD5, 'env.txt', { platforms: LINUX });
  assert.equal(parsed.format, 'explicit');
  assert.deepEqual(names(parsed), ['_libgcc_mutex-0.1-conda_forge.tar.bz2', 'tzdata-2024b-hc8b5060_0.conda']);
  assert.equal(parsed.packages[0]!.md5, MD5);
  assert.equal(parsed.packages[0]!.url, `${CF}/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2`);
  assert.deepEqual(parsed.packages[1]!.origin, { file: 'env.txt', line: 7 });
});

test('an explicit file with sha256: fragments and a URL without checksum parses both', async () => {
  const parsed = await parseSpecText(EXPLICIT_SHA, 'env.txt', { platforms: LINUX });
  assert.equal(parsed.packages[0]!.sha256, SHA);
  assert.equal(parsed.packages[1]!.sha256, undefined);
  assert.equal(parsed.packages[1]!.md5, undefined);
});

test('a malformed hash in an explicit file names the file and line', async () => {
  const bad = EXPLICIT_SHA.replace(`#sha256:${SHA}`, '#sha256:abc123');
  const e = await specError(bad, '/x/env.txt');
  assert.match(e.message, /^\/x\/env\.txt:3: malformed sha256 'abc123'/);
  assert.equal(e.line, 3);
  const bad2 = EXPLICIT_MD5.replace(`#${MD5}`, '#not-a-hash');
  assert.match((await specError(bad2, 'env.txt')).message, /env\.txt:6: malformed checksum '#not-a-hash'/);
});

test('an explicit file for another platform is refused with its line', async () => {
  const e = await specError(EXPLICIT_MD5.replace('platform: linux-64', 'platform: osx-arm64'), 'env.txt');
  assert.match(e.message, /env\.txt:3: this explicit file is for platform 'osx-arm64', not linux-64 or noarch/);
  const parsed = await parseSpecText(EXPLICIT_MD5.replace('platform: linux-64', 'platform: osx-arm64'), 'env.txt', { platforms: ['osx-arm64'] });
  assert.equal(parsed.packages.length, 2);
});

test('a non-URL line and a non-package URL in an explicit file are errors naming the line', async () => {
  assert.match((await specError(`${EXPLICIT_MD5}numpy=1.26\n`, 'e.txt')).message, /e\.txt:8: expected a package URL/);
  assert.match((await specError(`@EXPLICIT\n${CF}/linux-64/repodata.json\n`, 'e.txt')).message, /e\.txt:2: .*not a conda package URL/);
});

test('a file of bare package URLs without @EXPLICIT is accepted', async () => {
  const parsed = await parseSpecText(`${CF}/linux-64/a-1-0.conda\n\n${CF}/noarch/b-2-0.tar.bz2#${MD5}\n`, 'urls.txt', { platforms: LINUX });
  assert.deepEqual(names(parsed), ['a-1-0.conda', 'b-2-0.tar.bz2']);
});

test('conda-lock.yml v1: conda packages of the chosen platform with md5 and sha256; pip entries skipped', async () => {
  const parsed = await parseSpecText(CONDA_LOCK, 'conda-lock.yml', { platforms: LINUX });
  assert.equal(parsed.format, 'conda-lock');
  assert.deepEqual(names(parsed), ['_libgcc_mutex-0.1-conda_forge.tar.bz2']);
  assert.equal(parsed.packages[0]!.md5, MD5);
  assert.equal(parsed.packages[0]!.sha256, SHA);
  assert.equal(parsed.packages[0]!.origin?.line, 15);
  assert.equal(parsed.skipped.length, 1);
  assert.match(parsed.skipped[0]!.reason, /pip package 'requests'/);
  const osx = await parseSpecText(CONDA_LOCK, 'conda-lock.yml', { platforms: ['osx-arm64'] });
  assert.deepEqual(names(osx), ['tzdata-2024b-hc8b5060_0.conda']);
});

test('a conda-lock.yml for another platform is refused, naming its platforms', async () => {
  const e = await specError(CONDA_LOCK, 'conda-lock.yml', { platforms: ['win-64'] });
  assert.match(e.message, /conda-lock\.yml:10: this lock file has no packages for win-64 \(it has: linux-64, osx-arm64\)/);
});

test('a conda-lock.yml with a bad hash, a missing url or another version is refused with the line', async () => {
  // A malformed md5 alone is refused; beside a valid sha256 it is ignored (sha256 wins, as in conda).
  assert.match((await specError(CONDA_LOCK.replace(`md5: ${MD5}\n    sha256: ${SHA}`, 'md5: 12345'), 'l.yml')).message, /l\.yml:15: malformed md5 '12345'/);
  const withSha = await parseSpecText(CONDA_LOCK.replace(`md5: ${MD5}`, 'md5: 12345'), 'l.yml', { platforms: LINUX });
  assert.equal(withSha.packages[0]!.sha256, SHA);
  assert.equal(withSha.packages[0]!.md5, undefined);
  assert.match((await specError(CONDA_LOCK.replace(/ {2}url: .*_libgcc.*\n/, ''), 'l.yml')).message, /l\.yml:15: package '_libgcc_mutex' has no url/);
  assert.match((await specError(CONDA_LOCK.replace('version: 1', 'version: 7'), 'l.yml')).message, /l\.yml:1: unsupported conda-lock version 7/);
});

test('pixi.lock v6: the environment and platform chosen, checksums and size from the packages list', async () => {
  const parsed = await parseSpecText(PIXI_V6, 'pixi.lock', { platforms: LINUX });
  assert.equal(parsed.format, 'pixi-lock');
  assert.deepEqual(names(parsed), ['_libgcc_mutex-0.1-conda_forge.tar.bz2', 'tzdata-2024b-hc8b5060_0.conda']);
  assert.equal(parsed.packages[0]!.size, 2562);
  assert.equal(parsed.packages[0]!.sha256, SHA);
  assert.equal(parsed.packages[1]!.md5, '8ac3367aafb1cc0a068483c580af8015');
  assert.equal(parsed.skipped.length, 1);
  const test = await parseSpecText(PIXI_V6, 'pixi.lock', { platforms: LINUX, environment: 'test' });
  assert.deepEqual(names(test), ['tzdata-2024b-hc8b5060_0.conda']);
});

test('pixi.lock v5 (kind: conda entries) is understood', async () => {
  const parsed = await parseSpecText(PIXI_V5, 'pixi.lock', { platforms: LINUX });
  assert.deepEqual(names(parsed), ['_libgcc_mutex-0.1-conda_forge.tar.bz2']);
  assert.equal(parsed.packages[0]!.md5, MD5);
  assert.equal(parsed.packages[0]!.size, 2562);
});

test('pixi.lock errors: unknown environment, other platform, unknown reference, bad version, bad size', async () => {
  assert.match((await specError(PIXI_V6, 'pixi.lock', { environment: 'prod' })).message, /no environment 'prod' \(it has: default, test\)/);
  assert.match((await specError(PIXI_V6, 'pixi.lock', { platforms: ['win-64'] })).message,
    /pixi\.lock:7: environment 'default' has no packages for win-64 \(it has: linux-64, osx-arm64\)/);
  const unknown = PIXI_V6.replace(`      - conda: ${CF}/noarch/tzdata-2024b-hc8b5060_0.conda\n      - pypi`, `      - conda: ${CF}/noarch/zzz-1-0.conda\n      - pypi`);
  assert.match((await specError(unknown, 'pixi.lock')).message, /pixi\.lock:9: package .*zzz-1-0\.conda is not described/);
  assert.match((await specError(PIXI_V6.replace('version: 6', 'version: 2'), 'pixi.lock')).message, /pixi\.lock:1: unsupported pixi\.lock version 2/);
  assert.match((await specError(PIXI_V6.replace('size: 2562', 'size: -4'), 'pixi.lock')).message, /pixi\.lock:20: malformed size '-4'/);
});

test('an unknown format and broken YAML are clear errors naming the file', async () => {
  assert.match((await specError('name: myenv\ndependencies:\n  - numpy\n', 'environment.yml')).message,
    /environment\.yml:1: unknown format: not a conda explicit file, conda-lock\.yml or pixi\.lock/);
  assert.match((await specError('', 'empty.txt')).message, /empty\.txt: unknown format/);
  const broken = await specError('version: 6\nenvironments:\n  default: [\n', 'pixi.lock');
  assert.match(broken.message, /pixi\.lock:\d+: not valid YAML/);
});

test('duplicates are fetched once; the same file with another checksum is an error naming both places', async () => {
  const a = await parseSpecText(EXPLICIT_MD5, 'a.txt', { platforms: LINUX });
  const b = await parseSpecText(PIXI_V6, 'pixi.lock', { platforms: LINUX });
  const merged = mergeSpecs([a, b]);
  assert.equal(merged.length, 2);
  assert.equal(merged[0]!.sha256, SHA, 'checksums merged from both lists');
  const c = await parseSpecText(`@EXPLICIT\n${CF}/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2#${'0'.repeat(32)}\n`, 'c.txt', { platforms: LINUX });
  assert.throws(() => mergeSpecs([a, c]), (e: unknown) => isGatewayError(e) && e.code === 'CG_SPEC_INVALID'
    && /c\.txt:2: _libgcc_mutex-0\.1-conda_forge\.tar\.bz2 is listed again with a different md5 \(first at a\.txt:6\)/.test(e.message));
});

test('sha256 wins over md5 in spec entries, as in conda: a malformed md5 beside a valid sha256 is ignored; alone it is refused', () => {
  const sha = 'a'.repeat(64);
  const origin = { file: 'conda-lock.yml', line: 7 };
  const lock = packageFromUrl('https://example.com/c/noarch/x-1-0.conda', origin, { md5: 'md5', sha256: sha });
  assert.equal(lock.sha256, sha);
  assert.equal(lock.md5, undefined);
  const valid = packageFromUrl('https://example.com/c/noarch/x-1-0.conda', origin, { md5: 'B'.repeat(32), sha256: sha });
  assert.equal(valid.md5, 'b'.repeat(32));
  assert.throws(() => packageFromUrl('https://example.com/c/noarch/x-1-0.conda', origin, { md5: 'md5' }),
    (err: { code?: string }) => err.code === 'CG_SPEC_INVALID');
  assert.throws(() => packageFromUrl('https://example.com/c/noarch/x-1-0.conda#md5:zz', origin),
    (err: { code?: string }) => err.code === 'CG_SPEC_INVALID');
});
