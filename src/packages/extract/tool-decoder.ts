/**
 * Native decoding through the `zstd` and `bzip2` programs when they are installed: they
 * decode at C speed in their own process, beside our event loop. Node 20 has no zstd or
 * bzip2 of its own and the npm decoders are pure JS (several times slower), so these are
 * an accelerator only: without the program, the JS decoders do the same work.
 * Decoders are built for hostile input; zstd keeps its default 128 MiB window limit.
 */
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

export type Tool = 'zstd' | 'bzip2';

const ARGS: Record<Tool, string[]> = { zstd: ['-d', '-c', '-q', '--no-progress'], bzip2: ['-d', '-c', '-q'] };
const available = new Map<Tool, Promise<boolean>>();

/** Whether the program runs here (checked once per process). */
export function hasTool(tool: Tool): Promise<boolean> {
  let known = available.get(tool);
  if (!known) {
    known = new Promise((resolve) => {
      const child = spawn(tool, tool === 'zstd' ? ['--version'] : ['--help'], { stdio: 'ignore' });
      child.on('error', () => resolve(false));
      child.on('close', (code) => resolve(code === 0));
    });
    available.set(tool, known);
  }
  return known;
}

/** A Duplex: compressed bytes in, decoded bytes out; a failed decode is an error naming the program's complaint. */
export function toolDecoder(tool: Tool): Duplex {
  const child = spawn(tool, ARGS[tool], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 2000) stderr += d.toString();
  });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  // A consumer that stops early (a refused entry) must not leave the program running.
  duplex.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  child.on('error', (err) => duplex.destroy(err));
  child.on('close', (code, signal) => {
    if (code !== 0 && signal === null) duplex.destroy(new Error(`${tool}: ${stderr.trim() || `exit status ${code}`}`));
  });
  // An EPIPE on stdin when the program quits early is reported through the exit status instead.
  child.stdin.on('error', () => undefined);
  return duplex;
}
