// Runs the CLI from source (for tests that spawn a real process).
import { run } from '../../src/cli/main.js';

process.exitCode = await run(process.argv);
