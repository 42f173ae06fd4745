/**
 * Progress bars for people (cli-progress): only when stderr is a TTY, never with -q or
 * --json. The library only emits callbacks; rendering lives here.
 */
import type { CliIo, GlobalOptions } from './io.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function progressEnabled(io: CliIo, global: GlobalOptions): boolean {
  return Boolean(io.stderr.isTTY) && !global.quiet && !global.json && io.env.CONDA_GATEWAY_NO_PROGRESS === undefined;
}

export interface ByteBar {
  update(bytes: number, total?: number): void;
  stop(): void;
}

const NOOP_BAR: ByteBar = { update: () => undefined, stop: () => undefined };

/** One byte bar for a single download. */
export async function createByteBar(io: CliIo, global: GlobalOptions, label: string): Promise<ByteBar> {
  if (!progressEnabled(io, global)) return NOOP_BAR;
  const { SingleBar, Presets } = (await import('cli-progress')).default;
  const started = performance.now();
  const bar = new SingleBar({
    stream: io.stderr as NodeJS.WritableStream,
    format: `${label} |{bar}| {percentage}% {done}/{size} {speed}`,
    hideCursor: true,
    barsize: 30,
    fps: 10,
  }, Presets.shades_classic);
  let startedBar = false;
  const payload = (bytes: number, total: number) => {
    const secs = Math.max((performance.now() - started) / 1000, 0.001);
    return { done: formatBytes(bytes), size: total ? formatBytes(total) : '?', speed: `${formatBytes(bytes / secs)}/s` };
  };
  return {
    update(bytes, total) {
      const t = total ?? 0;
      if (!startedBar) {
        bar.start(t || 1, bytes, payload(bytes, t));
        startedBar = true;
      }
      if (t) bar.setTotal(t);
      bar.update(bytes, payload(bytes, t));
    },
    stop() {
      if (startedBar) bar.stop();
    },
  };
}
