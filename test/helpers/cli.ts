/** Run the CLI in a real child process (from source, through tsx) and capture everything it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called once the process started (e.g. to kill it). */
  onSpawn?: (child: ChildProcess) => void;
  timeoutMs?: number;
  /** Shell commands run before the CLI replaces the shell, e.g. `ulimit -n 50`. */
  shellPrefix?: string;
}

export function cliCommand(): { command: string; args: string[] } {
  // An absolute loader path, so the child may run in any working directory.
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  return { command: process.execPath, args: ['--import', tsx, ENTRY] };
}

/** Environment for a child: no proxies or CONDA_* from the developer's shell, no progress bars. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^CONDA_|_proxy$|^NETRC$|^AWS_|^REQUESTS_CA_BUNDLE$|^SSL_CERT_FILE$|^CURL_CA_BUNDLE$/i.test(k)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const { command, args: pre } = cliCommand();
  return new Promise((resolve, reject) => {
    const argv = [command, ...pre, ...args];
    const [file, ...rest] = opts.shellPrefix ? ['sh', '-c', `${opts.shellPrefix} && exec "$@"`, 'sh', ...argv] : argv;
    const child = spawn(file!, rest, {
      cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    opts.onSpawn?.(child);
  });
}
