/**
 * `conda-gateway auth login|logout|list`: the rattler/pixi-compatible credential store
 * (RATTLER_AUTH_FILE or ~/.rattler/credentials.json). Nothing secret is ever printed.
 */
import type { Command } from 'commander';
import type { CommandEnv, RegisterCommand } from './types.js';

interface LoginOptions {
  token?: string;
  username?: string;
  password?: string;
  condaToken?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  s3SessionToken?: string;
  json?: boolean;
}

async function storeContext(env: CommandEnv) {
  const [{ homedir }, store, { CondaValueError }] = await Promise.all([
    import('node:os'), import('../../auth/credential-store.js'), import('../../errors/classes.js'),
  ]);
  const home = env.io.env.HOME || homedir();
  const file = store.credentialStorePath(env.io.env, home);
  return { store, file, CondaValueError };
}

/** `https://repo.example.com/x` → `repo.example.com`; `s3://bucket/x` → `s3://bucket`; hosts and `*.wildcards` stay. */
export function storeKeyFor(input: string): string {
  const text = input.trim();
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(text);
  if (!m) return text.toLowerCase().replace(/\/.*$/, '');
  const host = (m[2] ?? '').replace(/^.*@/, '').replace(/:\d+$/, '').toLowerCase();
  return m[1]?.toLowerCase() === 's3' ? `s3://${host}` : host;
}

/** A secret given as `-` is read from standard input (first line), so it stays out of `ps` and shell history. */
async function fromStdin(value: string | undefined): Promise<string | undefined> {
  if (value !== '-') return value;
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.split(/\r?\n/)[0] ?? '';
}

async function run(env: CommandEnv, json: boolean | undefined, body: () => Promise<void>): Promise<void> {
  const { renderError } = await import('../render-error.js');
  try {
    await body();
  } catch (err) {
    env.setExitCode(renderError(env.io, err, { json, verbose: env.globals().verbose }));
  }
}

function registerLogin(auth: Command, env: CommandEnv): void {
  auth.command('login')
    .description('store credentials for a host (or *.domain, s3://bucket, or an OCI registry)')
    .argument('<host>', 'host name, wildcard like *.example.com, s3://bucket, or a URL on the host (oci://ghcr.io/org too)')
    .addHelpText('after', '\nA secret given as "-" is read from standard input, e.g. `printf %s "$TOKEN" | conda-gateway auth login host --token -`.' +
      '\nOCI registries: --username/--password go to the registry\'s token service (or as Basic to Basic-only registries);' +
      '\n--token is sent to the registry as is.')
    .option('--token <token>', 'bearer token (Authorization: Bearer)')
    .option('--username <name>', 'user for HTTP basic auth')
    .option('--password <password>', 'password for HTTP basic auth')
    .option('--conda-token <token>', 'anaconda.org / quetz token (added to URLs as /t/<token>/)')
    .option('--s3-access-key-id <id>', 'S3 access key id')
    .option('--s3-secret-access-key <key>', 'S3 secret access key')
    .option('--s3-session-token <token>', 'S3 session token')
    .option('--json', 'print one JSON object on stdout')
    .action((hostArg: string, raw: LoginOptions) => run(env, raw.json, async () => {
      const { store, file, CondaValueError } = await storeContext(env);
      const opts: LoginOptions = {
        ...raw,
        token: await fromStdin(raw.token), password: await fromStdin(raw.password),
        condaToken: await fromStdin(raw.condaToken), s3SecretAccessKey: await fromStdin(raw.s3SecretAccessKey),
      };
      const key = storeKeyFor(hostArg);
      if (!key) throw new CondaValueError('A host is needed, e.g. `conda-gateway auth login repo.example.com --token …`.');
      const given = [opts.token !== undefined, opts.username !== undefined || opts.password !== undefined,
        opts.condaToken !== undefined, opts.s3AccessKeyId !== undefined || opts.s3SecretAccessKey !== undefined].filter(Boolean).length;
      if (given !== 1) {
        throw new CondaValueError('Give exactly one kind of credentials: --token, --username with --password, --conda-token, ' +
          'or --s3-access-key-id with --s3-secret-access-key.');
      }
      let entry: import('../../auth/credential-store.js').StoredAuthentication;
      if (opts.token !== undefined) entry = { BearerToken: opts.token };
      else if (opts.condaToken !== undefined) entry = { CondaToken: opts.condaToken };
      else if (opts.s3AccessKeyId !== undefined || opts.s3SecretAccessKey !== undefined) {
        if (!opts.s3AccessKeyId || !opts.s3SecretAccessKey) throw new CondaValueError('S3 credentials need both --s3-access-key-id and --s3-secret-access-key.');
        entry = { S3Credentials: { access_key_id: opts.s3AccessKeyId, secret_access_key: opts.s3SecretAccessKey, session_token: opts.s3SessionToken ?? null } };
      } else {
        if (!opts.username || opts.password === undefined) throw new CondaValueError('Basic credentials need both --username and --password.');
        entry = { BasicHTTP: { username: opts.username, password: opts.password } };
      }
      const data = await store.readCredentialStore(file);
      data[key] = entry;
      await store.writeCredentialStore(file, data);
      const kind = Object.keys(entry)[0] as string;
      if (opts.json) env.io.stdout.write(`${JSON.stringify({ ok: true, host: key, kind, file })}\n`);
      else env.io.stderr.write(`Stored ${kind} credentials for ${key} in ${file}.\n`);
    }));
}

function registerLogout(auth: Command, env: CommandEnv): void {
  auth.command('logout')
    .description('remove the stored credentials of a host')
    .argument('<host>', 'host name, wildcard, s3://bucket, or a URL on the host')
    .option('--json', 'print one JSON object on stdout')
    .action((hostArg: string, opts: { json?: boolean }) => run(env, opts.json, async () => {
      const { store, file, CondaValueError } = await storeContext(env);
      const key = storeKeyFor(hostArg);
      const data = await store.readCredentialStore(file);
      const found = Object.keys(data).find((k) => k.toLowerCase() === key);
      if (!found) throw new CondaValueError(`No credentials are stored for '${key}' in ${file}.`, { hint: 'See `conda-gateway auth list`.' });
      delete data[found];
      await store.writeCredentialStore(file, data);
      if (opts.json) env.io.stdout.write(`${JSON.stringify({ ok: true, host: found, file })}\n`);
      else env.io.stderr.write(`Removed the credentials for ${found} from ${file}.\n`);
    }));
}

function describeEntry(entry: import('../../auth/credential-store.js').StoredAuthentication): { kind: string; shown: string } {
  if ('BasicHTTP' in entry) return { kind: 'BasicHTTP', shown: `${entry.BasicHTTP.username}:****` };
  if ('S3Credentials' in entry) return { kind: 'S3Credentials', shown: `${entry.S3Credentials.access_key_id.slice(0, 4)}****` };
  return { kind: Object.keys(entry)[0] as string, shown: '****' };
}

function registerList(auth: Command, env: CommandEnv): void {
  auth.command('list')
    .description('list the hosts with stored credentials (values masked)')
    .option('--json', 'print one JSON object on stdout')
    .action((opts: { json?: boolean }) => run(env, opts.json, async () => {
      const { store, file } = await storeContext(env);
      const data = await store.readCredentialStore(file);
      const rows = Object.entries(data).map(([host, entry]) => ({ host, ...describeEntry(entry) }));
      if (opts.json) {
        env.io.stdout.write(`${JSON.stringify({ ok: true, file, credentials: rows })}\n`);
        return;
      }
      env.io.stdout.write(`# ${file}\n`);
      if (!rows.length) env.io.stdout.write('(no credentials stored)\n');
      const width = Math.max(0, ...rows.map((r) => r.host.length));
      for (const r of rows) env.io.stdout.write(`${r.host.padEnd(width)}  ${r.kind.padEnd(13)}  ${r.shown}\n`);
    }));
}

export const registerAuth: RegisterCommand = (program, env) => {
  const auth = program.command('auth').description('manage stored credentials (rattler/pixi credentials.json format)');
  registerLogin(auth, env);
  registerLogout(auth, env);
  registerList(auth, env);
};
