/** Child process for the concurrency test: fetch one subdir and print the cache result as JSON. */
import { fetchRepodata, loadSettings } from '../../../src/index.js';

const [channel, subdir, cacheDir] = process.argv.slice(2) as [string, string, string];
const settings = loadSettings({ env: {}, overrides: { remoteBackoffFactor: 0 } });
const result = await fetchRepodata(channel, subdir, { cacheDir, settings });
process.stdout.write(`${JSON.stringify({ cacheResult: result.cacheResult, count: Object.keys(result.repodata['packages.conda'] ?? {}).length })}\n`);
