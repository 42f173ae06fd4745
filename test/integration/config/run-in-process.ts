/** Run the CLI in this process through main's run(argv, io), capturing what it prints. */
import { Writable } from 'node:stream';
import { run } from '../../../src/cli/main.js';
import type { CliResult } from '../../helpers/cli.js';

function capture(): Writable & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return Object.assign(stream, { text: () => text });
}

export async function runHere(args: string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  const code = await run(['node', 'conda-gateway', ...args], { stdout, stderr, env, cwd });
  return { code, signal: null, stdout: stdout.text(), stderr: stderr.text() };
}
