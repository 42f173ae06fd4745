/**
 * Every parser that reads outside input, with generators that mix random text with
 * near-valid structure (so the deep branches run too). Secrets planted in credential
 * inputs carry the s3cr3t marker, so the runner also checks error text for leaks.
 */
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as msgpackEncode } from '@msgpack/msgpack';
import { stringify as yamlStringify } from 'yaml';
import { loadSettings } from '../../../src/index.js';
import { SETTING_SPECS, parseCondarc } from '../../../src/config/index.js';
import { maskUrl, redactText } from '../../../src/redact/index.js';
import { normalizeExpected, parseContentRange } from '../../../src/download/index.js';
import { parseRequestUrl } from '../../../src/session/create-session.js';
import { parseRetryAfter } from '../../../src/core/backoff.js';
import { parseSpecText } from '../../../src/packages/read-specs.js';
import { packageFromUrl } from '../../../src/packages/package-url.js';
import { cachePath } from '../../../src/packages/pkgs-dir.js';
import { parseNetrc } from '../../../src/auth/netrc.js';
import { parseCredentialStore } from '../../../src/auth/credential-store.js';
import { parseRepodata } from '../../../src/repodata/fetch-repodata.js';
import { RepodataCache } from '../../../src/repodata/cache.js';
import { cachePaths } from '../../../src/repodata/cache-key.js';
import { stateFromResponse } from '../../../src/repodata/cache-state.js';
import { cacheControlMaxAge } from '../../../src/repodata/freshness.js';
import { parseShard, parseShardIndex } from '../../../src/repodata/shards.js';
import { decodeZstd, ZstdDecodeError } from '../../../src/repodata/zst.js';
import { parseProxyUrl, selectProxyWithSource } from '../../../src/session/proxy.js';
import { createAnacondaTokenSource } from '../../../src/auth/anaconda-tokens.js';
import { selectAuthHandlerName } from '../../../src/auth/select-handler.js';
import { assertPlainPathUrl } from '../../../src/core/url-path.js';
import { localPathOf } from '../../../src/adapters/localfs/index.js';
import { ftpTarget } from '../../../src/adapters/ftp/index.js';
import { s3Target } from '../../../src/adapters/s3/index.js';
import { regionInConfig } from '../../../src/adapters/s3/config.js';
import { decideRange } from '../../../src/adapters/byte-range.js';
import { Headers, Response } from 'undici';
import { redirectMiddleware } from '../../../src/session/middleware/redirect.js';
import type { GatewayRequest, RequestContext } from '../../../src/core/types.js';
import type { FuzzTarget } from './fuzz-run.js';

const text = (maxLength = 400): fc.Arbitrary<string> => fc.oneof(
  fc.string({ maxLength }),
  fc.string({ maxLength, unit: 'binary' }),
  fc.string({ maxLength, unit: 'grapheme' }),
);

/** Lines drawn from format tokens and noise, joined by assorted line ends. */
function linesOf(tokens: readonly string[], maxLines = 30): fc.Arbitrary<string> {
  const line = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...tokens) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...tokens), fc.string({ maxLength: 40 })).map(([a, b]) => a + b) },
    { weight: 1, arbitrary: text(80) },
  );
  return fc.tuple(fc.array(line, { maxLength: maxLines }), fc.constantFrom('\n', '\r\n', '\n\n', ' \n'))
    .map(([ls, sep]) => ls.join(sep));
}

const hex = (n: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: n, maxLength: n });
const scheme = fc.constantFrom('http', 'https', 'file', 'ftp', 's3', 'HTTPS', 'gopher', 'x-y+z', '');
const secretUserinfo = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 12, unit: fc.constantFrom(...'abcXYZ019-_.~%!$&()*+,;=:@ ') }).map((p) => `user:s3cr3t${p}@`),
  fc.constant('tk-s3cr3t@'),
);

/** URLs, from well-formed to broken, some carrying a secret in userinfo, a /t/ token or a signed query. */
export const urlArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.tuple(scheme, fc.constantFrom('://', ':/', ':', '://///'), secretUserinfo,
    fc.constantFrom('127.0.0.1', 'repo.example.com', '[::1]', 'xn--bcher-kva.example', '', 'h:99999', 'a b'),
    fc.constantFrom('', '/t/tk-s3cr3t', '/t/tk_s3cr3t.v2'),
    fc.webPath(),
    fc.constantFrom('', '?X-Amz-Signature=s3cr3t', '?token=s3cr3t&x=1', '#md5', '#sha256:00'),
  ).map((parts) => parts.join('')),
  text(120),
);

/** A URL whose secret must never survive masking (the secret slot is the only place the marker appears). */
const maskableUrl: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom('http', 'https', 'ftp', 's3', 'HTTP'),
  fc.oneof(
    fc.string({ maxLength: 10, unit: fc.constantFrom(...'abc019-_.~%!$&()*+,;=:@') }).map((p) => `u:s3cr3t${p}@`),
    fc.string({ maxLength: 10, unit: fc.constantFrom(...'abc019-_.~') }).map((p) => `s3cr3t${p}@`),
  ),
  fc.constantFrom('127.0.0.1', 'repo.example.com', '[::1]:8080', 'h'),
  fc.webPath(),
  fc.constantFrom('', '/t/tk-s3cr3t/x', '/t/s3cr3t.t_k/x'),
  fc.constantFrom('', '?X-Amz-Signature=s3cr3t', '?a=1&X-Amz-Credential=AKIAS3CR3T%2Fx', '?x-amz-security-token=s3cr3t#f'),
).map(([s, ui, host, path, tok, q]) => `${s}://${ui}${host}${tok}${path}${q}`);

const packageUrl = fc.tuple(
  fc.constantFrom('https://conda.anaconda.org/conda-forge/linux-64/', 'http://user:s3cr3t@127.0.0.1:1/t/tk-s3cr3t/c/noarch/', 'file:///tmp/ch/noarch/', ''),
  fc.constantFrom('numpy-2.1.0-py312h1_0', 'a', '', 'x%ZZ', 'pkg-1-0'),
  fc.constantFrom('.conda', '.tar.bz2', '', '.zip'),
  fc.oneof(fc.constant(''), hex(32).map((h) => `#${h}`), hex(64).map((h) => `#sha256:${h}`), fc.string({ maxLength: 70 }).map((s) => `#${s}`)),
).map((p) => p.join(''));

const headerValue = fc.oneof(
  text(120),
  fc.tuple(fc.constantFrom('bytes ', 'bytes', 'BYTES ', 'items ', ''), fc.oneof(fc.nat().map(String), fc.constant('*'), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String)),
    fc.constantFrom('-', '/', ' - '), fc.oneof(fc.nat().map(String), fc.constant('*')), fc.constantFrom('/', ' / ', ''),
    fc.oneof(fc.nat().map(String), fc.constant('*'), fc.constant('1e400'))).map((p) => p.join('')),
  fc.tuple(fc.constantFrom('max-age=', 'no-cache', 's-maxage=', 'public, max-age=', 'max-age="'), fc.oneof(fc.integer().map(String), fc.string({ maxLength: 20 }), fc.constant('99999999999999999999999'))).map((p) => p.join('')),
  fc.date({ noInvalidDate: false }).map((d) => { try { return d.toUTCString(); } catch { return 'Invalid Date'; } }),
  fc.integer({ min: -5, max: 10 ** 9 }).map(String),
);

const SETTING_NAMES = Object.values(SETTING_SPECS).map((s) => s.name);
const settingValue = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 4 }),
  fc.constantFrom('true', 'false', 'truststore', '~/ca.pem', '$HOME/x', '${UNSET}', 'http://proxyuser:pr0xy-pass@127.0.0.1:3128', '-1', '1e9', 'NaN', ''),
  fc.dictionary(fc.constantFrom('http', 'https', 'all', 'http://host', 'bad key'), fc.constantFrom('http://proxyuser:pr0xy-pass@127.0.0.1:3128', 'not a url', 'socks5://x', '')),
);

const condarcText = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom(...SETTING_NAMES), fc.string({ maxLength: 12 })), settingValue, { maxKeys: 6 })
    .map((o) => { try { return yamlStringify(o); } catch { return ''; } }),
  linesOf(['channels:', '  - conda-forge', 'ssl_verify: false', 'proxy_servers:', '  http: http://proxyuser:pr0xy-pass@h:1', 'remote_max_retries: x',
    'channel_alias: ', '#!final', 'key: #!top', '- a', ': b', '{', '[', 'a: &x 1', 'b: *x', 'c: !!binary x', 'ssl_verify: true\nssl_verify: false', '\t']),
  text(300),
);

const NETRC_TOKENS = ['machine', 'default', 'login', 'user', 'password', 'account', 'macdef', 'repo.example.com', 's3cr3t-pw', '"s3cr3t pw"', '#', '\t'];
const netrcText = fc.oneof(
  fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NETRC_TOKENS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((s) => `s3cr3t${s}`) }), { maxLength: 40 })
    .chain((toks) => fc.array(fc.constantFrom(' ', '\n', '\t', '\r\n', '\n\n'), { minLength: toks.length, maxLength: toks.length })
      .map((seps) => toks.map((t, i) => t + seps[i]).join(''))),
  text(200),
);

const storedEntry = fc.oneof(
  fc.record({ BasicHTTP: fc.record({ username: fc.oneof(fc.string(), fc.anything()), password: fc.constantFrom('s3cr3t', 3, null) }, { requiredKeys: [] }) }),
  fc.record({ BearerToken: fc.oneof(fc.constant('s3cr3t-token'), fc.anything({ maxDepth: 1 })) }),
  fc.record({ CondaToken: fc.oneof(fc.constant('tk-s3cr3t'), fc.integer()) }),
  fc.record({ S3Credentials: fc.record({ access_key_id: fc.constantFrom('AKIAS3CR3T', 1), secret_access_key: fc.constantFrom('s3cr3t-key', null), session_token: fc.constantFrom('s3cr3t-st', null, 5) }, { requiredKeys: [] }) }),
  fc.anything({ maxDepth: 2 }),
);
const credentialText = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom('repo.example.com', '*.example.com', ''), fc.string({ maxLength: 10 })), storedEntry, { maxKeys: 4 }).map((o) => JSON.stringify(o)),
  fc.dictionary(fc.string({ maxLength: 10 }), storedEntry, { maxKeys: 3 }).map((o) => JSON.stringify(o).slice(0, -3)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  text(200),
);

const explicitText = linesOf(['@EXPLICIT', '# platform: linux-64', '#platform: osx-arm64', '# This file may be used to create an environment',
  'https://conda.anaconda.org/conda-forge/linux-64/numpy-2.1.0-py312h1_0.conda#0123456789abcdef0123456789abcdef',
  'http://user:s3cr3t@127.0.0.1:1/t/tk-s3cr3t/c/noarch/a-1-0.tar.bz2#sha256:' + '0'.repeat(64),
  'file:///tmp/x/noarch/b-1-0.conda', 'https://h/x.conda#zz', 'not-a-url', '   ', '#', 'https://h/y.whl']);

/** Mostly valid, sometimes not: so most cases get past the first check and reach the deep branches. */
function mostly<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: bad });
}
const goodPackageUrl = fc.tuple(
  fc.constantFrom('https://conda.anaconda.org/conda-forge/linux-64/', 'http://user:s3cr3t@127.0.0.1:1/t/tk-s3cr3t/c/noarch/', 'file:///tmp/ch/noarch/'),
  fc.constantFrom('numpy-2.1.0-py312h1_0', 'pkg-1-0', 'x%20y-1-0'),
  fc.constantFrom('.conda', '.tar.bz2'),
).map((p) => p.join(''));
const lockRecord = fc.record({
  name: mostly(fc.constantFrom('numpy', 'pip-pkg'), fc.anything({ maxDepth: 0 })),
  version: mostly(fc.constant('1.0'), fc.integer()),
  manager: mostly(fc.constant('conda'), fc.constantFrom('pip', 'other', 3)),
  platform: mostly(fc.constantFrom('linux-64', 'noarch'), fc.constantFrom('osx-arm64', 'win-64', null, 7)),
  url: mostly(goodPackageUrl, fc.oneof(packageUrl, urlArbitrary)),
  hash: mostly(fc.record({ md5: mostly(hex(32), fc.string()), sha256: mostly(hex(64), fc.string()) }, { requiredKeys: [] }), fc.anything({ maxDepth: 1 })),
  size: mostly(fc.nat(), fc.oneof(fc.integer(), fc.string(), fc.double())),
  category: fc.constantFrom('main', 'dev'),
  optional: fc.boolean(),
}, { requiredKeys: ['platform', 'url'] });
const condaLock = fc.record({
  version: mostly(fc.constant(1), fc.anything({ maxDepth: 0 })),
  metadata: mostly(fc.record({ platforms: fc.array(fc.constantFrom('linux-64', 'osx-arm64', 'win-64', 3)), channels: fc.anything({ maxDepth: 2 }) }, { requiredKeys: [] }), fc.anything({ maxDepth: 1 })),
  package: mostly(fc.array(lockRecord, { maxLength: 5 }), fc.anything({ maxDepth: 2 })),
}, { requiredKeys: ['version', 'metadata', 'package'] });
const pixiPackage = fc.record({
  conda: mostly(goodPackageUrl, fc.oneof(urlArbitrary, fc.integer())),
  sha256: mostly(hex(64), fc.string()), md5: mostly(hex(32), fc.string()), size: mostly(fc.nat(), fc.string()),
  name: fc.string({ maxLength: 8 }), version: fc.string({ maxLength: 5 }),
}, { requiredKeys: [] });
const pixiRef = fc.oneof({ weight: 5, arbitrary: goodPackageUrl.map((conda) => ({ conda })) }, { weight: 1, arbitrary: fc.webUrl().map((pypi) => ({ pypi })) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) });
const pixiLock = fc.record({
  version: mostly(fc.constantFrom(4, 5, 6), fc.anything({ maxDepth: 0 })),
  environments: mostly(fc.record({ default: fc.record({
    channels: fc.array(fc.oneof(fc.record({ url: fc.webUrl() }), fc.string())),
    packages: fc.dictionary(fc.constantFrom('linux-64', 'noarch', 'osx-arm64', 'win-64'), fc.array(pixiRef, { maxLength: 4 }), { minKeys: 1 }),
  }, { requiredKeys: ['packages'] }) }, { requiredKeys: [] }), fc.anything({ maxDepth: 2 })),
  packages: mostly(fc.array(pixiPackage, { maxLength: 5 }), fc.anything({ maxDepth: 1 })),
}, { requiredKeys: ['version', 'environments'] });
const lockText = fc.oneof(condaLock, pixiLock).map((o) => { try { return yamlStringify(o); } catch { return 'package: ['; } });

const repodataText = fc.oneof(
  fc.record({
    info: fc.oneof(fc.record({ subdir: fc.constantFrom('linux-64', 3) }), fc.anything({ maxDepth: 1 })),
    packages: fc.oneof(fc.dictionary(fc.string({ maxLength: 20 }), fc.anything({ maxDepth: 2 }), { maxKeys: 3 }), fc.anything({ maxDepth: 1 })),
    'packages.conda': fc.anything({ maxDepth: 2 }),
    repodata_version: fc.anything({ maxDepth: 0 }),
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)),
  text(300),
);

const stateText = fc.oneof(
  fc.record({
    url: fc.oneof(fc.webUrl(), fc.anything({ maxDepth: 0 })), etag: fc.anything({ maxDepth: 0 }), mod: fc.anything({ maxDepth: 0 }),
    cache_control: fc.oneof(headerValue, fc.anything({ maxDepth: 0 })),
    mtime_ns: fc.oneof(fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map(String), fc.anything({ maxDepth: 0 })),
    size: fc.anything({ maxDepth: 0 }), refresh_ns: fc.anything({ maxDepth: 0 }),
    has_zst: fc.oneof(fc.record({ value: fc.anything({ maxDepth: 0 }), last_checked: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()) }, { requiredKeys: [] }), fc.anything({ maxDepth: 1 })),
    has_shards: fc.anything({ maxDepth: 1 }), has_jlap: fc.anything({ maxDepth: 1 }),
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o).replace(/"(-?\d{16,})"/g, '$1')),
  // Python's json writes NaN/Infinity bare; conda can leave them in a state file.
  fc.tuple(fc.constantFrom('mod', 'etag', 'size', 'mtime_ns', 'value', 'x'), fc.constantFrom('NaN', 'Infinity', '-Infinity', '"NaN"', 'NaNa', '-'))
    .map(([k, v]) => `{"url": "https://h/c/linux-64", "${k}": ${v}, "has_zst": {"value": ${v}, "last_checked": "2023-01-08T11:45:44Z"}}`),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v) + JSON.stringify(v)),
  text(200),
);

const msgpackBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.record({
    info: fc.anything({ maxDepth: 1 }), version: fc.anything({ maxDepth: 0 }),
    shards: fc.oneof(fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }), fc.anything({ maxDepth: 0 })), { maxKeys: 4 }), fc.anything({ maxDepth: 1 })),
    packages: fc.oneof(fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.record({ sha256: fc.uint8Array({ maxLength: 32 }), md5: fc.uint8Array({ maxLength: 16 }), depends: fc.array(fc.string()) }, { requiredKeys: [] }), fc.anything({ maxDepth: 1 })), { maxKeys: 3 }), fc.anything({ maxDepth: 1 })),
    'packages.conda': fc.anything({ maxDepth: 2 }),
    removed: fc.anything({ maxDepth: 1 }),
  }, { requiredKeys: [] }).map((o) => { try { return msgpackEncode(o, { ignoreUndefined: true }); } catch { return new Uint8Array([0xc1]); } }),
);

const envArbitrary = fc.dictionary(
  fc.oneof(fc.constantFrom(...Object.values(SETTING_SPECS).map((s) => s.env)), fc.constantFrom('HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'REQUESTS_CA_BUNDLE', 'CONDA_PKGS_DIRS', 'CONDA_CHANNELS')),
  fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('true', 'no', '1', '0.5', '-3', 'http://proxyuser:pr0xy-pass@h:1', '{"a": 1}', '[1,', 'a,b,,c')),
  { maxKeys: 5 },
);

/** Proxy values as people write them, with the secret in the password (possibly holding '@', '/' or ':'). */
const proxyValue = fc.oneof(
  fc.tuple(fc.constantFrom('http://', 'https://', 'socks5://', 'ftp://', '', 'http:/', 'HTTP://'),
    fc.constantFrom('proxyuser:', 'p%40u:'), fc.string({ maxLength: 8, unit: fc.constantFrom(...'ab1@/:%#?') }).map((x) => `pr0xy-pass${x}`),
    fc.constantFrom('@', '@@'), fc.constantFrom('127.0.0.1:3128', 'proxy.corp', '[::1]:8080', '', ':99999'), fc.constantFrom('', '/', '/path?x=1')).map((p) => p.join('')),
  text(60),
);
const proxyEnv = fc.record({
  HTTP_PROXY: proxyValue, HTTPS_PROXY: proxyValue, ALL_PROXY: proxyValue, http_proxy: proxyValue,
  NO_PROXY: fc.oneof(fc.array(fc.constantFrom('*', '127.0.0.1', '10.0.0.0/8', '.example.com', '*.corp', 'localhost:8080', '::1', '1.2.3.4/99', '', ' ', 'a..b'))
    .map((a) => a.join(',')), text(40)),
}, { requiredKeys: [] });

/** Token file names as they appear in a binstar config directory: quote_plus(url) + '.token', or anything else. */
const tokenFileNames = fc.array(fc.oneof(
  fc.constantFrom('https%3A%2F%2Fapi.anaconda.org.token', 'https%3A.token', 'https:.token', 'http%3A%2F%2F.token', '%.token', '.token',
    'https%3A%2F%2Fh%3A99999.token', 'https%3A%2F%2F127.0.0.1%3A1%2Ft.token', 'x.txt'),
  fc.string({ maxLength: 30, unit: fc.constantFrom(...'abhtps%3A2F:/.+-_@') }).map((n) => `${n}.token`),
), { maxLength: 4 });

/**
 * channel_settings entries as .condarc holds them. At most three `*` per pattern: more, against a
 * long path, sends the regex-based fnmatch into catastrophic backtracking (a hang, tested apart).
 */
const channelPattern = fc.tuple(
  fc.constantFrom('https://', 'http://', 's3://', '', 'https:/'),
  fc.string({ maxLength: 14, unit: fc.constantFrom(...'ab.z*?[]!^-:/') }),
  fc.constantFrom('', '/', '/t/*/', '/chan*', '/[z-a]', '/[!a-'),
  fc.string({ maxLength: 10, unit: fc.constantFrom(...'abz*?[]!^-/\\') }),
).map((p) => p.join('')).filter((p) => (p.match(/\*/g)?.length ?? 0) <= 3);
const channelSettings = fc.array(fc.record({ channel: fc.oneof(channelPattern, fc.constantFrom('conda-forge', 'defaults')), auth: fc.constantFrom('h1', 'h2', ' ', '') }), { maxLength: 4 });

/** file, ftp and s3 URLs with traversal, encoded separators, control characters and odd hosts. */
const pathUrl = fc.tuple(
  fc.constantFrom('file://', 'ftp://', 's3://', 'FILE://', 'ftp://user:s3cr3t@'),
  fc.constantFrom('', 'localhost', '127.0.0.1', 'bucket', 'other.host', '[::1]', 'h:99999', '%62ucket'),
  fc.array(fc.constantFrom('chan', 'noarch', 'x.conda', '..', '.', '%2e%2e', '%2F', '%5c', '%00', '%0d%0a', '%ZZ', 'a b', '', 'é', '%C3%A9'), { maxLength: 6 })
    .map((segs) => `/${segs.join('/')}`),
  fc.constantFrom('', '?x=1', '#frag', '/'),
).map((p) => p.join(''));

/** Package URLs whose last segment mixes traversal, separators and control characters, raw and percent-encoded. */
const hostileNameUrl = fc.tuple(
  fc.constantFrom('https://h/c/linux-64/', 'http://127.0.0.1:1/pkg/', 'file:///tmp/ch/noarch/', 's3://bucket/k/', 'ftp://h/pub/'),
  fc.array(fc.oneof(
    fc.constantFrom('..', '.', '%2e%2e', '%2E.', '%2F', '%2f', '%5C', '%5c', '\\', '/', '%00', '%0A', '%0d', '%1B%5B2J', '%7F', '%C2%85',
      '%E2%80%AE', '\u0000', '\n', '\u001b', 'numpy-2.1.0-py312h1_0', 'x', '%', '%ZZ', '%252F', ' ', 'é', '?', '#'),
    fc.string({ maxLength: 6 }),
  ), { maxLength: 8 }).map((parts) => parts.join('')),
  fc.oneof(fc.constant(''), fc.nat({ max: 300 }).map((n) => 'a'.repeat(n))),
  fc.constantFrom('.conda', '.tar.bz2', '.conda/', '.conda#sha256:' + '0'.repeat(64)),
).map((p) => p.join(''));
const FUZZ_PKGS = '/tmp/cg-fuzz-pkgs';
function cacheFileOf(text: string): string {
  return cachePath(FUZZ_PKGS, packageFromUrl(text, origin).fileName);
}

function adapterTarget(text: string): unknown {
  assertPlainPathUrl(text);
  const url = parseRequestUrl(text);
  if (url.protocol === 'file:') return localPathOf(url);
  if (url.protocol === 'ftp:') return ftpTarget(url).path;
  if (url.protocol === 's3:') return s3Target(url).key;
  return undefined;
}

const awsConfig = linesOf(['[default]', '[profile dev]', '[ profile  dev ]', '[profile', 'region = us-west-2', 'region=', 'region = eu-central-1 ; c',
  'aws_secret_access_key = s3cr3t-key', '# region = x', '[default', 'region', '= x', '\t[default]\t']);

/** Location headers a hostile server may send: other schemes, opaque URLs, relative paths, credentials, junk. */
const redirectLocation = fc.oneof(
  urlArbitrary,
  pathUrl,
  fc.tuple(fc.constantFrom('data:', 'javascript:', 'file:', 'FILE:', 'ftp:', 's3:', 'gopher:', 'blob:', 'about:', 'http:', 'https:', 'HtTp:', '//', '/', '', '\\\\', ' http:'),
    fc.constantFrom('', '//', '///', '/', '\\\\'), fc.constantFrom('', 'user:s3cr3t@', 'tk-s3cr3t@'),
    fc.constantFrom('127.0.0.1', 'localhost', 'etc/passwd', 'home/u/.netrc', 'bucket', 'text/plain,payload', '[::1]:1', ''),
    fc.webPath()).map((p) => p.join('')),
);

/**
 * The redirect middleware against one hostile Location (then a 200): it returns, or refuses with a
 * typed error; every hop it makes goes to http(s), and a hop to another origin carries no credentials.
 */
async function followHostileRedirect([location, code]: [string, number]): Promise<unknown> {
  // A server sends bytes; undici reads the header as latin1 and a header never holds CR, LF or NUL.
  location = Buffer.from(location, 'utf8').toString('latin1').replace(/[\r\n\0]/g, '');
  const hops: GatewayRequest[] = [];
  const next = async (req: GatewayRequest): Promise<Response> => {
    hops.push(req);
    return hops.length === 1 ? new Response(null, { status: code, headers: { location } }) : new Response('ok');
  };
  const first: GatewayRequest = { url: new URL('http://user:s3cr3t-orig@127.0.0.1:1/c/x.conda'), method: 'GET',
    headers: new Headers({ authorization: 'Bearer tk-s3cr3t-orig' }) };
  await redirectMiddleware(first, { attempt: 1 } as RequestContext, next);
  return hops.slice(1).map((h) => ({ href: h.url.href, origin: h.url.origin, auth: h.headers.get('authorization') }));
}
function redirectHopsAreSafe(_x: unknown, result: unknown): string | undefined {
  for (const hop of result as Array<{ href: string; origin: string; auth: string | null }>) {
    if (!/^https?:\/\//.test(hop.href)) return `followed a redirect to ${hop.href}`;
    if (hop.origin !== 'http://127.0.0.1:1' && (hop.auth !== null || /s3cr3t-orig/.test(hop.href))) return `our credentials sent to ${hop.origin}`;
  }
  return undefined;
}

let tokenRoot: string | undefined;
let tokenCase = 0;
async function lookupWithTokenFiles([names, url]: [string[], string]): Promise<unknown> {
  tokenRoot ??= mkdtempSync(join(tmpdir(), 'cg-fuzz-tokens-'));
  const dir = join(tokenRoot, String(tokenCase++));
  mkdirSync(join(dir, 'data'), { recursive: true });
  try {
    for (const name of names) {
      try {
        writeFileSync(join(dir, 'data', name), 'tk-s3cr3t-token\n');
      } catch { /* a name the filesystem refuses is not a case */ }
    }
    const source = createAnacondaTokenSource({ BINSTAR_CONFIG_DIR: dir }, dir);
    return await source.lookup(parseRequestUrl(url));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let stateDir: string | undefined;
function stateCache(): RepodataCache {
  stateDir ??= mkdtempSync(join(tmpdir(), 'cg-fuzz-state-'));
  return new RepodataCache(cachePaths(stateDir, 'https://repo.example.com/c/linux-64/repodata.json'));
}
export function fuzzStateDir(): string | undefined {
  if (tokenRoot) rmSync(tokenRoot, { recursive: true, force: true });
  return stateDir;
}

const origin = { file: 'fuzz.txt', line: 1 };
const noSecretAfterMasking = (input: string, result: unknown): string | undefined =>
  /s3cr3t/i.test(String(result)) ? `masked form still holds the secret: ${String(result)}` : undefined;

/** Every target; `name` is what the counts line says. */
export function fuzzTargets(): FuzzTarget<never>[] {
  const targets: Array<FuzzTarget<any>> = [
    { name: 'URLs (parseRequestUrl)', arbitrary: urlArbitrary, run: (u: string) => parseRequestUrl(u).href },
    { name: 'URL masking (maskUrl)', arbitrary: maskableUrl, run: (u: string) => maskUrl(u), check: noSecretAfterMasking },
    { name: 'URL masking in text (redactText)', arbitrary: fc.tuple(text(30), maskableUrl, text(30)).map((p) => p.join(' ')),
      run: (u: string) => redactText(u), check: noSecretAfterMasking },
    { name: 'package URLs (packageFromUrl)', arbitrary: fc.oneof(packageUrl, urlArbitrary), run: (u: string) => packageFromUrl(u, origin) },
    { name: 'cache file names from package URLs (packageFromUrl + cachePath)', arbitrary: fc.oneof(hostileNameUrl, packageUrl, urlArbitrary),
      run: (u: string) => cacheFileOf(u),
      check: (_u: string, r: unknown) => {
        const path = String(r);
        if (!path.startsWith(`${FUZZ_PKGS}/`) || path.slice(FUZZ_PKGS.length + 1).includes('/')) return `a path outside the cache: ${JSON.stringify(path)}`;
        const name = path.slice(FUZZ_PKGS.length + 1);
        let decoded = name;
        try { decoded = decodeURIComponent(name); } catch { /* checked raw */ }
        // eslint-disable-next-line no-control-regex
        if ([name, decoded].some((n) => /[\u0000-\u001f\u007f/\\]|\.\./.test(n))) return `an unsafe name accepted: ${JSON.stringify(name)}`;
        return Buffer.byteLength(name) > 240 ? `an over-long name accepted (${Buffer.byteLength(name)} bytes)` : undefined;
      } },
    { name: 'Content-Range', arbitrary: headerValue, run: (v: string) => parseContentRange(v),
      check: (_v: string, r: unknown) => {
        const cr = r as { start?: number; end?: number; total?: number } | undefined;
        if (!cr) return undefined;
        if (cr.start !== undefined && cr.end !== undefined && cr.start > cr.end) return 'start > end';
        if (cr.total !== undefined && cr.end !== undefined && cr.end >= cr.total) return 'end >= total';
        return [cr.start, cr.end, cr.total].some((n) => n !== undefined && !Number.isSafeInteger(n)) ? 'unsafe integer' : undefined;
      } },
    { name: 'Retry-After', arbitrary: headerValue, run: (v: string) => parseRetryAfter(v),
      check: (_v: string, r: unknown) => (r === undefined || (typeof r === 'number' && r >= 0 && Number.isFinite(r)) ? undefined : `bad delay ${String(r)}`) },
    { name: 'Cache-Control', arbitrary: headerValue, run: (v: string) => cacheControlMaxAge(v),
      check: (_v: string, r: unknown) => (typeof r === 'number' && r >= 0 && !Number.isNaN(r) ? undefined : `bad max-age ${String(r)}`) },
    { name: 'response validators (stateFromResponse)', arbitrary: fc.tuple(headerValue, headerValue, headerValue),
      run: ([etag, mod, cc]: [string, string, string]) => stateFromResponse('https://h/c/linux-64/repodata.json',
        { get: (n: string) => (n === 'etag' ? etag : n === 'last-modified' ? mod : n === 'cache-control' ? cc : null) }) },
    { name: 'checksums and sizes (normalizeExpected)', arbitrary: fc.record({ md5: fc.oneof(hex(32), fc.anything({ maxDepth: 0 })), sha256: fc.oneof(hex(64), fc.anything({ maxDepth: 0 })), size: fc.anything({ maxDepth: 0 }) }, { requiredKeys: [] }),
      run: (x: Record<string, unknown>) => normalizeExpected(x) },
    { name: 'explicit files', arbitrary: explicitText, run: (t: string) => parseSpecText(t, 'env.txt') },
    { name: 'lock files (conda-lock.yml, pixi.lock)', arbitrary: fc.oneof(lockText, linesOf(['version: 1', 'package:', 'metadata:', 'environments:', '- name: x', '  url: https://h/x.conda', 'packages:', '  - conda: http://h/a-1-0.conda', ': :', '[', '"'])),
      run: (t: string) => parseSpecText(t, 'lock.yml') },
    { name: '.condarc', arbitrary: condarcText, run: (t: string) => loadSettings({ layers: [parseCondarc(t, '/home/u/.condarc', { env: { HOME: '/home/u' }, homeDir: '/home/u' })] }) },
    { name: 'CONDA_* environment', arbitrary: envArbitrary, run: (env: Record<string, string>) => loadSettings({ env }) },
    { name: '.netrc', arbitrary: netrcText, run: (t: string) => parseNetrc(t, '/home/u/.netrc') },
    { name: 'credential store', arbitrary: credentialText, run: (t: string) => parseCredentialStore(t, '/home/u/.conda/credentials.json') },
    { name: 'repodata.json', arbitrary: repodataText, run: (t: string) => parseRepodata(t, 'https://user:s3cr3t@h/c/linux-64/repodata.json') },
    { name: 'repodata state files (.info.json via loadState)', arbitrary: stateText, run: async (t: string) => {
      const cache = stateCache();
      writeFileSync(cache.paths.state, t);
      return cache.loadState('https://repo.example.com/c/linux-64/repodata.json');
    } },
    { name: 'shard index (msgpack)', arbitrary: msgpackBytes, run: (b: Uint8Array) => parseShardIndex(b, 'https://h/t/tk-s3cr3t/c/linux-64/repodata_shards.msgpack.zst') },
    { name: 'shards (msgpack)', arbitrary: msgpackBytes, run: (b: Uint8Array) => parseShard(b, 'https://h/t/tk-s3cr3t/c/linux-64/shards/x.msgpack.zst') },
    { name: 'proxy settings and NO_PROXY (selectProxy, parseProxyUrl)', arbitrary: fc.tuple(proxyEnv, fc.constantFrom('http://127.0.0.1:1/x', 'https://repo.example.com/c', 'http://[::1]:8080/', 'https://10.1.2.3/', 'ftp://h/x')),
      run: ([env, url]: [Record<string, string>, string]) => {
        const selected = selectProxyWithSource(new URL(url), loadSettings({ env }));
        return selected ? parseProxyUrl(selected).href : undefined;
      } },
    { name: 'anaconda token files', arbitrary: fc.tuple(tokenFileNames, fc.constantFrom('https://api.anaconda.org/conda-forge/x', 'https://conda.anaconda.org/c', 'http://127.0.0.1:1/t/x', 'https://h/')),
      run: (x: [string[], string]) => lookupWithTokenFiles(x) },
    { name: 'channel_settings patterns (auth handler selection)', arbitrary: fc.tuple(channelSettings, fc.constantFrom('https://repo.example.com/chan/noarch/x.conda', 'http://a.b/t/tk/c', 's3://bucket/k', 'https://ab.z/')),
      run: ([entries, url]: [Array<Record<string, string>>, string]) => selectAuthHandlerName(new URL(url), 'conda-forge', entries) },
    { name: 'file/ftp/s3 URL paths (adapters)', arbitrary: fc.oneof(pathUrl, urlArbitrary), run: (t: string) => adapterTarget(t),
      check: (_t: string, r: unknown) => (typeof r === 'string' && (/(^|[/\\])\.\.?([/\\]|$)/.test(r) || /[\u0000-\u001f]/.test(r))
        ? `a path that escapes or carries control characters: ${JSON.stringify(r)}` : undefined) },
    { name: 'redirect targets (redirect middleware)', arbitrary: fc.tuple(redirectLocation, fc.constantFrom(301, 302, 303, 307, 308)),
      run: (x: [string, number]) => followHostileRedirect(x), check: redirectHopsAreSafe },
    { name: 'AWS config files (regionInConfig)', arbitrary: fc.tuple(awsConfig, fc.constantFrom('default', 'dev', '', 'a b')),
      run: ([t, profile]: [string, string]) => regionInConfig(t, profile),
      check: (_x: unknown, r: unknown) => (typeof r === 'string' && /s3cr3t/.test(r) ? 'a secret read as the region' : undefined) },
    { name: 'Range requests (file adapter decideRange)', arbitrary: fc.tuple(headerValue, fc.nat({ max: 10_000_000 })),
      run: ([h, size]: [string, number]) => decideRange(h, size) },
    { name: 'zstd frames (decodeZstd)', arbitrary: fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 60 }).map((b) => new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, ...b]))),
      run: (b: Uint8Array) => decodeZstd(b), allow: (err: unknown) => err instanceof ZstdDecodeError },
  ];
  return targets as unknown as FuzzTarget<never>[];
}
