#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// V8 re-compiles hot WebAssembly functions optimised in the background. For undici's HTTP parser
// that is one 33 KB function: ~150 ms of a core and ~30 MB, a job Node waits for before it exits
// (100–300 ms idle at the end of small commands), for a parser that does little work per byte.
// The repodata validator's `push` is the one function worth it (1.5× faster over a 250 MB index):
// only that function index may tier up. test/unit/wasm-tier.test.ts checks the index is `push`.
const VALIDATOR_PUSH_FUNCTION = 11;
setFlagsFromString(`--wasm-tier-up-filter=${VALIDATOR_PUSH_FUNCTION}`);

const { run } = await import('../dist/cli/main.js');
process.exitCode = await run(process.argv);
