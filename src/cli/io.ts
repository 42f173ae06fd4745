/** What a command may touch of the process: streams, environment, TTY facts. Injected for tests. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** stderr without control-character escaping, for progress bars only (see safe-text.ts). */
  readonly rawStderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Global flags shared by every command. */
export interface GlobalOptions {
  offline?: boolean;
  insecure?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
}
