// One download() in a fresh process, from the built dist/ (run `npm run build` first); prints JSON with its time and peak RSS. Used by bench/download.ts.
import { download } from '../dist/index.js';
import { defaultSettings } from '../dist/config/index.js';

const [url, target, sha256] = process.argv.slice(2);
const started = performance.now();
const result = await download(url!, target!, { sha256, settings: defaultSettings() });
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, bytes: result.bytes, maxRssKiB: process.resourceUsage().maxRSS }));
