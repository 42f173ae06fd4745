/**
 * Progress bars for people (cli-progress): only when stderr is a TTY, never with -q or
 * --json. The library only emits callbacks; rendering lives here.
 */
import type { CliIo, GlobalOptions } from './io.js';
import { escapeControls } from './safe-text.js';

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
    stream: (io.rawStderr ?? io.stderr) as NodeJS.WritableStream,
    format: `${escapeControls(label).replace(/[{}]/g, '')} |{bar}| {percentage}% {done}/{size} {speed}`,
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

/** Overall progress of many downloads plus one bar per active download. */
export interface MultiByteBar {
  /** What this run will fetch: package count and bytes (0 when unknown). */
  setTotals(packages: number, bytes: number): void;
  startItem(id: string, label: string, total?: number): void;
  updateItem(id: string, bytes: number, total?: number): void;
  /** A started item is over (fetched, failed, or found done by another process); `fetchedBytes` counts towards the overall bar. */
  endItem(id: string, fetchedBytes: number): void;
  /** A line above the bars (cli-progress keeps the bars intact). */
  log(line: string): void;
  stop(): void;
}

const NOOP_MULTI: MultiByteBar = {
  setTotals: () => undefined, startItem: () => undefined, updateItem: () => undefined,
  endItem: () => undefined, log: () => undefined, stop: () => undefined,
};

function formatDuration(secs: number): string {
  if (!Number.isFinite(secs) || secs < 0) return '--:--';
  const s = Math.round(secs);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

const BAR_FORMAT = ' {label} |{bar}| {percentage}% {done}/{size} {extra}';

/** cli-progress MultiBar: the first bar is the whole run (packages, bytes, throughput, ETA). */
export async function createMultiBar(io: CliIo, global: GlobalOptions): Promise<MultiByteBar> {
  if (!progressEnabled(io, global)) return NOOP_MULTI;
  const { MultiBar, Presets, Format } = (await import('cli-progress')).default;
  const started = performance.now();
  const width = Math.max(30, Math.min(io.stderr.columns ?? 100, 140));
  const labelWidth = Math.max(16, Math.min(40, width - 62));
  const multi = new MultiBar({
    stream: (io.rawStderr ?? io.stderr) as NodeJS.WritableStream,
    hideCursor: true, barsize: 20, fps: 8, clearOnComplete: false, autopadding: true, forceRedraw: false,
    // A bar waiting for its next package renders as an empty line.
    format: (options, params, payload: { idle?: boolean }) =>
      (payload.idle ? '' : Format.Formatter({ ...options, format: BAR_FORMAT }, params, payload)),
  }, Presets.shades_classic);
  type Bar = ReturnType<typeof multi.create>;
  const items = new Map<string, { bar: Bar; bytes: number; total: number; label: string }>();
  const idle: Bar[] = [];
  let packages = 0;
  let totalBytes = 0;
  let finished = 0;
  let finishedBytes = 0;
  const overall = multi.create(1, 0, { label: 'total'.padEnd(labelWidth), done: '0 B', size: '?', extra: '' });
  // Explicit files carry no sizes: then the overall bar counts packages, not bytes.
  const redraw = (): void => {
    const active = [...items.values()].reduce((n, i) => n + i.bytes, 0);
    const bytes = finishedBytes + active;
    const secs = Math.max((performance.now() - started) / 1000, 0.001);
    const rate = bytes / secs;
    let eta: number;
    if (totalBytes > 0) {
      eta = totalBytes > bytes && rate > 0 ? (totalBytes - bytes) / rate : 0;
      overall.setTotal(Math.max(totalBytes, bytes, 1));
      overall.update(bytes, {});
    } else {
      eta = finished > 0 ? (secs / finished) * (packages - finished) : NaN;
      overall.setTotal(Math.max(packages, 1));
      overall.update(finished, {});
    }
    overall.update({
      label: `${finished}/${packages} packages`.padEnd(labelWidth), done: formatBytes(bytes),
      size: totalBytes > 0 ? formatBytes(totalBytes) : '?', extra: `${formatBytes(rate)}/s ETA ${formatDuration(eta)}`,
    });
  };
  const dirty = new Set<string>();
  let pending: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(pending);
    pending = undefined;
    for (const id of dirty) {
      const item = items.get(id);
      if (!item) continue;
      item.bar.setTotal(Math.max(item.total, item.bytes, 1));
      item.bar.update(item.bytes, { label: short(item.label), done: formatBytes(item.bytes), size: item.total ? formatBytes(item.total) : '?', extra: '' });
    }
    dirty.clear();
    redraw();
  };
  const short = (raw: string): string => {
    const label = escapeControls(raw);
    return label.length > labelWidth ? `${label.slice(0, labelWidth - 1)}…` : label.padEnd(labelWidth);
  };
  return {
    setTotals(count, bytes) {
      packages = count;
      totalBytes = bytes;
      redraw();
    },
    startItem(id, label, total) {
      if (items.has(id)) return;
      const t = total ?? 0;
      const payload = { label: short(label), done: '0 B', size: t ? formatBytes(t) : '?', extra: '', idle: false };
      const reused = idle.pop();
      if (reused) {
        reused.setTotal(Math.max(t, 1));
        reused.update(0, payload);
      }
      const bar = reused ?? multi.create(Math.max(t, 1), 0, payload);
      items.set(id, { bar, bytes: 0, total: t, label });
    },
    updateItem(id, bytes, total) {
      const item = items.get(id);
      if (!item) return;
      item.bytes = bytes;
      if (total) item.total = total;
      // Progress comes with every write (thousands per GiB); the bars are drawn 8 times a second,
      // so they take the latest figures at most 10 times a second.
      dirty.add(id);
      if (!pending) {
        pending = setTimeout(flush, 100);
        pending.unref();
      }
    },
    endItem(id, fetchedBytes) {
      const item = items.get(id);
      if (!item) return;
      // The bar waits for the next item: removing one redraws every bar at once (cli-progress),
      // which cost ~4 % of a 200-package fetch's CPU.
      item.bar.update(0, { idle: true });
      idle.push(item.bar);
      items.delete(id);
      dirty.delete(id);
      finished++;
      finishedBytes += fetchedBytes;
      redraw();
    },
    log(line) {
      multi.log(`${escapeControls(line)}\n`);
    },
    stop() {
      flush();
      for (const bar of idle.splice(0)) multi.remove(bar);
      redraw();
      multi.stop();
    },
  };
}
