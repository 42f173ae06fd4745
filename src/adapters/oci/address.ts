/**
 * Where a conda file of an `oci://<registry>/<channel path>/<subdir>/<file>` URL lives in
 * the registry: repository, tag (or digest) and the layer's media type. Two encodings:
 * "v0", what ghcr.io/channel-mirrors and rattler/libmamba use today, and the proposed CEP
 * "v1" (conda/ceps PR #115). Pure functions; every name is checked against the OCI
 * grammar, so a hostile URL cannot address anything but a well-formed repository.
 */
import { createHash } from 'node:crypto';
import { CondaValueError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';

export type OciEncoding = 'v0' | 'v1';

export const MEDIA_TYPES = {
  condaV1: 'application/vnd.conda.package.v1',
  condaV2: 'application/vnd.conda.package.v2',
  repodata: 'application/vnd.conda.repodata.v1+json',
  repodataZst: 'application/vnd.conda.repodata.v1+json+zst',
  repodataGzip: 'application/vnd.conda.repodata.v1+json+gzip',
  repodataBz2: 'application/vnd.conda.repodata.v1+json+bz2',
  /** Ours: no published spec stores CEP-16 shards in a registry yet. */
  shardIndex: 'application/vnd.conda.repodata.shards.v1+msgpack+zst',
} as const;

/** What to fetch: a tagged artifact's layer, or a blob by digest. */
export interface OciTarget {
  /** `registry[:port]` as written in the URL. */
  readonly registry: string;
  readonly repository: string;
  /** The tag to resolve when no digest is known. */
  readonly tag: string;
  /** Layer media types acceptable for this file, best first. */
  readonly mediaTypes: readonly string[];
  /** `sha256:<hex>` when the URL itself names the content (shards). */
  readonly digest?: string;
  readonly kind: 'package' | 'repodata' | 'shard-index' | 'shard';
  /** The Content-Type to answer with. */
  readonly contentType: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const METADATA_FILES: Record<string, { base: string; mediaType: string }> = {
  'repodata.json': { base: 'repodata.json', mediaType: MEDIA_TYPES.repodata },
  'repodata.json.zst': { base: 'repodata.json', mediaType: MEDIA_TYPES.repodataZst },
  'repodata.json.gz': { base: 'repodata.json', mediaType: MEDIA_TYPES.repodataGzip },
  'repodata.json.bz2': { base: 'repodata.json', mediaType: MEDIA_TYPES.repodataBz2 },
  'current_repodata.json': { base: 'current_repodata.json', mediaType: MEDIA_TYPES.repodata },
  'repodata_shards.msgpack.zst': { base: 'repodata_shards.msgpack.zst', mediaType: MEDIA_TYPES.shardIndex },
};

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** v0 tag: rattler's version_build_tag. */
export function v0Tag(version: string, build: string): string {
  return `${version}-${build}`.replace(/\+/g, '__p__').replace(/!/g, '__e__').replace(/=/g, '__eq__');
}

/** v0 repository name: OCI names cannot start with `_`. */
export function v0Name(name: string): string {
  return name.startsWith('_') ? `zzz${name}` : name;
}

function v1Part(text: string): string {
  return text.replace(/_/g, '__').replace(/\+/g, '_P').replace(/!/g, '_N');
}

/** v1 name and tag: `c` prefix, `_`→`__`, `+`→`_P`, `!`→`_N`; hashed (`h<sha256>`) past 64/128 characters, both or neither. */
export function v1NameAndTag(name: string, version: string, build: string): { name: string; tag: string } {
  const encodedName = `c${name}`;
  const tag = `${v1Part(version)}-${v1Part(build)}`;
  if (encodedName.length > 64 || tag.length > 128) return { name: `h${sha256Hex(encodedName)}`, tag: `h${sha256Hex(tag)}` };
  return { name: encodedName, tag };
}

/** `name-version-build.conda` → its parts (the name may contain `-`). */
export function splitPackageFileName(fileName: string): { name: string; version: string; build: string; ext: '.conda' | '.tar.bz2' } | undefined {
  const ext = fileName.endsWith('.conda') ? '.conda' : fileName.endsWith('.tar.bz2') ? '.tar.bz2' : undefined;
  if (!ext) return undefined;
  const stem = fileName.slice(0, -ext.length);
  const buildAt = stem.lastIndexOf('-');
  const versionAt = buildAt > 0 ? stem.lastIndexOf('-', buildAt - 1) : -1;
  if (versionAt <= 0) return undefined;
  const parts = { name: stem.slice(0, versionAt), version: stem.slice(versionAt + 1, buildAt), build: stem.slice(buildAt + 1) };
  if (!parts.name || !parts.version || !parts.build) return undefined;
  return { ...parts, ext };
}

function invalid(url: URL, why: string): CondaValueError {
  return new CondaValueError(`'${maskUrl(url)}' is not a conda file in an OCI registry: ${why}.`, {
    url, hint: 'Write oci://<registry>/<channel path>/<subdir>/<file>, e.g. oci://ghcr.io/channel-mirrors/conda-forge/noarch/repodata.json.',
  });
}

function decodeSegments(url: URL): string[] {
  return url.pathname.split('/').filter((s) => s !== '').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw invalid(url, 'malformed percent-encoding');
    }
  });
}

function checkedRepository(url: URL, parts: readonly string[]): string {
  for (const part of parts) {
    if (!COMPONENT.test(part)) throw invalid(url, `'${part}' is not a valid OCI repository name component`);
  }
  const repository = parts.join('/');
  if (url.host.length + 1 + repository.length > 255) throw invalid(url, 'the repository name is too long');
  return repository;
}

/**
 * The registry target of an oci:// URL, or undefined for a file that has no place in an
 * OCI channel (the adapter answers 404, as a plain channel would).
 */
export function ociTarget(url: URL, encoding: OciEncoding): OciTarget | undefined {
  if (!url.host) throw invalid(url, 'no registry host');
  const segments = decodeSegments(url);
  const file = segments.at(-1);
  if (!file || segments.length < 3) throw invalid(url, 'a channel path, a subdir and a file name are needed');
  const registry = url.host;

  if (segments.at(-2) === 'shards' && segments.length >= 4) {
    const m = /^([0-9a-f]{64})\.msgpack\.zst$/.exec(file);
    if (!m) return undefined;
    const indexName = encoding === 'v1' ? 'mrepodata_shards.msgpack.zst' : 'repodata_shards.msgpack.zst';
    const repository = checkedRepository(url, [...segments.slice(0, -2), indexName]);
    return {
      registry, repository, tag: 'latest', mediaTypes: ['application/octet-stream'], digest: `sha256:${m[1]}`,
      kind: 'shard', contentType: 'application/octet-stream',
    };
  }
  const channelAndSubdir = segments.slice(0, -1);
  const metadata = METADATA_FILES[file];
  if (metadata) {
    const name = encoding === 'v1' ? `m${metadata.base}` : metadata.base;
    const repository = checkedRepository(url, [...channelAndSubdir, name]);
    const kind = metadata.mediaType === MEDIA_TYPES.shardIndex ? 'shard-index' : 'repodata';
    const contentType = file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    return { registry, repository, tag: 'latest', mediaTypes: [metadata.mediaType], kind, contentType };
  }
  const pkg = splitPackageFileName(file);
  if (!pkg) return undefined;
  const mediaType = pkg.ext === '.conda' ? MEDIA_TYPES.condaV2 : MEDIA_TYPES.condaV1;
  const { name, tag } = encoding === 'v1' ? v1NameAndTag(pkg.name, pkg.version, pkg.build)
    : { name: v0Name(pkg.name), tag: v0Tag(pkg.version, pkg.build) };
  if (!TAG.test(tag)) throw invalid(url, `'${pkg.version}-${pkg.build}' does not make a valid OCI tag`);
  const repository = checkedRepository(url, [...channelAndSubdir, name]);
  return { registry, repository, tag, mediaTypes: [mediaType], kind: 'package', contentType: 'application/octet-stream' };
}

/** A `sha256:<hex>` digest from a hex string (X-Expected-Sha256), or undefined when it is not one. */
export function sha256Digest(hex: string | null | undefined): string | undefined {
  const h = hex?.trim().toLowerCase();
  return h && HEX64.test(h) ? `sha256:${h}` : undefined;
}
