/** Entry point for spawning the CLI from source in tests: `node --import tsx run-cli.ts fetch …`. */
import { run } from '../../../src/cli/main.js';

run(process.argv).then((code) => {
  process.exitCode = code;
});
