/** Content-Type from a file name, as Python's mimetypes.guess_type does for conda; text/plain otherwise. */

const BY_EXTENSION: Record<string, string> = {
  '.json': 'application/json',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.txt': 'text/plain',
  '.xml': 'text/xml',
  '.tar': 'application/x-tar',
  '.bz2': 'application/x-bzip2',
  '.gz': 'application/gzip',
  '.zip': 'application/zip',
  '.zst': 'application/zstd',
  '.msgpack': 'application/msgpack',
  '.yml': 'application/yaml',
  '.yaml': 'application/yaml',
};

export function contentTypeFor(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  // mimetypes reports `x.tar.bz2` as a tar file with bzip2 encoding.
  if (/\.tar\.(bz2|gz|xz|zst)$/.test(name)) return 'application/x-tar';
  const dot = name.lastIndexOf('.');
  return (dot >= 0 ? BY_EXTENSION[name.slice(dot)] : undefined) ?? 'text/plain';
}
