#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// undici's HTTP parser is WebAssembly; V8 would re-compile it optimised in the background and
// Node waits for that job before it exits (~100–300 ms idle at the end of every command). The
// baseline compiler parses fast enough for us: skip the tier-up.
setFlagsFromString('--liftoff-only');

const { run } = await import('../dist/cli/main.js');
process.exitCode = await run(process.argv);
