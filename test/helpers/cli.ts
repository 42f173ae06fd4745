/**
 * The one way tests run the CLI: a real child process (from source, through tsx) with a clean
 * environment; runCli captures everything it prints, spawnCli streams its JSON lines.
 */
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

/** A running CLI whose stdout is JSON lines (`--json`), e.g. `fetch`: lines as they arrive, and waiting for one. */
export interface CliRun {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the exit code (or 128+signal). */
  exit: Promise<number>;
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>;
}

export function spawnCli(args: string[], cwd: string): CliRun {
  const { command, args: pre } = cliCommand();
  // The same clean environment as runCli: none of the developer's CONDA_*, proxy or credential variables.
  const child = spawn(command, [...pre, ...args], {
    cwd, env: cleanEnv({ CONDA_GATEWAY_NO_PROGRESS: '1', CONDA_REMOTE_BACKOFF_FACTOR: '0' }), stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: () => void }> = [];
  let buffer = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const obj = JSON.parse(line) as Record<string, unknown>;
      lines.push(obj);
      for (const w of [...waiters]) if (w.pred(obj)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 128))));
  return {
    child, lines, exit, stderr: () => err,
    waitFor(pred, timeoutMs = 30_000) {
      if (lines.some(pred)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; stderr: ${err}`)), timeoutMs);
        waiters.push({ pred, resolve: () => { clearTimeout(timer); resolve(); } });
        void exit.then(() => { clearTimeout(timer); reject(new Error(`exited before the awaited line; stderr: ${err}`)); });
      });
    },
  };
}
