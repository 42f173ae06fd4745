/**
 * Worker threads that run one of our modules: `.js` from dist/, `.ts` from the sources. Node 20
 * applies no module hooks to a worker's entry, so from the sources tsx is registered first (only
 * development and tests run them).
 */
import { extname } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The module `name` beside `self` (an `import.meta.url`), with `self`'s extension. */
export function siblingModule(self: string, name: string): URL {
  const url = new URL(self);
  return new URL(`./${name}${extname(url.pathname)}`, url);
}

/** A worker whose entry imports `target`; a failed import is the worker's 'error'. */
export function startModuleWorker(target: URL, options: Omit<WorkerOptions, 'eval'>): Worker {
  const href = target.href;
  const setup = href.endsWith('.ts') ? `await import(${JSON.stringify(tsxApi())}).then((m) => m.register());` : '';
  const source = `(async () => { ${setup} await import(${JSON.stringify(href)}); })().catch((err) => { throw err; });`;
  return new Worker(source, { ...options, eval: true });
}

/** tsx's register() module, when the sources run under tsx (else the worker's import fails, typed). */
function tsxApi(): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return 'tsx/esm/api';
  }
}
