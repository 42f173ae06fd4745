/** A demo step: one thing `conda-gateway demo` shows, against the embedded channel. */
import type { Settings } from '../../core/settings.js';
import type { CliIo, GlobalOptions } from '../io.js';
import type { DemoServer } from './server.js';

export interface DemoContext {
  readonly io: CliIo;
  readonly global: GlobalOptions;
  readonly server: DemoServer;
  readonly settings: Settings;
  /** A fresh temporary directory, removed after the demo. */
  readonly workDir: string;
  /** The demo channel on disk (for file:// steps). */
  readonly channelDir: string;
  print(line?: string): void;
}

export interface DemoStep {
  readonly title: string;
  run(ctx: DemoContext): Promise<void>;
}

export interface DemoRecord {
  name: string;
  subdir: string;
  fn: string;
  size: number;
  sha256: string;
  md5: string;
  depends: string[];
}

/** The packages listed in the demo channel's repodata, read from disk. */
export async function demoPackages(channelDir: string, subdirs: readonly string[] = ['linux-64', 'noarch']): Promise<DemoRecord[]> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const out: DemoRecord[] = [];
  for (const subdir of subdirs) {
    const repodata = JSON.parse(await readFile(join(channelDir, subdir, 'repodata.json'), 'utf8')) as {
      'packages.conda': Record<string, { name: string; size: number; sha256: string; md5: string; depends: string[] }>;
    };
    for (const [fn, rec] of Object.entries(repodata['packages.conda'])) {
      out.push({ name: rec.name, subdir, fn, size: rec.size, sha256: rec.sha256, md5: rec.md5, depends: rec.depends });
    }
  }
  return out;
}
