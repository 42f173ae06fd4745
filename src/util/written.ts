/** What is left of a list of buffers once a `writev` has written its first `written` bytes. */
export function dropWritten(buffers: readonly Buffer[], written: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = written;
  for (const buffer of buffers) {
    if (skip >= buffer.byteLength) {
      skip -= buffer.byteLength;
      continue;
    }
    rest.push(skip ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
