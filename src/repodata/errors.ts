/** Repodata failures with conda's wording: UnavailableInvalidChannel and invalid-index errors. */
import { GatewayError } from '../errors/gateway-error.js';
import { CacheError } from '../errors/classes.js';
import { SafeUrl, maskUrl } from '../redact/safe-url.js';

const DEFAULT_GUIDANCE =
  'The channel is not accessible or is invalid.\n\n' +
  'You will need to adjust your conda configuration to proceed.\n' +
  "Use `conda config --show channels` to view your configuration's current state,\n" +
  'and use `conda config --show-sources` to view config file locations.\n';

/** conda's channel name for a URL: the path under the channel alias, else the masked URL. */
export function channelName(channelUrl: string, channelAlias?: string): string {
  const masked = maskUrl(channelUrl).replace(/\/+$/, '');
  const alias = channelAlias?.replace(/\/+$/, '');
  if (alias && masked.startsWith(`${alias}/`)) return masked.slice(alias.length + 1);
  return masked;
}

/** conda's UnavailableInvalidChannel: a channel without `noarch/repodata.json` (HTTP 404 there). */
export class UnavailableInvalidChannel extends GatewayError {
  readonly status: number;

  constructor(args: { channelUrl: string; status: number; reason?: string; channelAlias?: string; repodataUrl?: string }) {
    const base = maskUrl(args.channelUrl).replace(/\/+$/, '');
    let guidance = DEFAULT_GUIDANCE;
    if (base.startsWith('file:')) {
      guidance += '\nAs of conda 4.3, a valid channel must contain a\n`noarch/repodata.json` even if `noarch/repodata.json` is\n' +
        `empty. Use \`conda index ${base}\`, or create \`noarch/repodata.json\`\n`;
    }
    const reason = (args.reason || 'UNAVAILABLE OR INVALID').toUpperCase();
    super(`HTTP ${args.status || '000'} ${reason} for channel ${channelName(args.channelUrl, args.channelAlias)} <${base}>\n\n${guidance}`, {
      code: 'CG_CHANNEL_UNAVAILABLE', url: new SafeUrl(args.repodataUrl ?? args.channelUrl),
      details: { status: args.status, channel: base },
    });
    this.status = args.status;
  }
}

/** An index or shard that cannot be used; nothing of it was cached. */
export function invalidRepodata(what: string, url: string, detail: string, cause?: unknown): CacheError {
  return new CacheError(`${what} from ${maskUrl(url)} is invalid: ${detail}`, {
    code: 'CG_REPODATA_INVALID', url, cause,
    hint: 'The cache was left as it was. The channel index is malformed; try again later or contact the channel owner.',
  });
}
