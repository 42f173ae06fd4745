/** bench helper: an ftp-srv server in its own process serving one file; prints its URL, stops when stdin closes. */
import { readFile } from 'node:fs/promises';
import { startFtpServer } from '../test/helpers/servers/ftp.js';

const [source] = process.argv.slice(2);
const ftp = await startFtpServer(undefined);
await ftp.setFile('/blob.bin', await readFile(source!));
process.stdout.write(`${ftp.url}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void ftp.close().then(() => process.exit(0));
});
