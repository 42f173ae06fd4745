/** How a command file plugs into the program. */
import type { Command } from 'commander';
import type { CliIo, GlobalOptions } from '../io.js';

export interface CommandEnv {
  readonly io: CliIo;
  /** The global flags as parsed (call inside an action). */
  globals(): GlobalOptions;
  setExitCode(code: number): void;
}

export type RegisterCommand = (program: Command, env: CommandEnv) => void;
