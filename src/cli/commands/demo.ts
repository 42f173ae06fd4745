/** `conda-gateway demo`: the embedded demo channel on 127.0.0.1, no network, no setup. */
import type { RegisterCommand } from './types.js';

export const registerDemo: RegisterCommand = (program, env) => {
  program
    .command('demo')
    .description('run against an embedded local demo channel (no network needed)')
    .action(async () => {
      const { io } = env;
      const global = env.globals();
      const [{ startDemoServer }, { materializeDemoChannel }, { DEMO_STEPS }, { cliSettings }, { renderError }, fs, os, path] = await Promise.all([
        import('../demo/server.js'), import('../demo/channel.js'), import('../demo/steps.js'), import('../context.js'),
        import('../render-error.js'), import('node:fs/promises'), import('node:os'), import('node:path'),
      ]);
      const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'conda-gateway-demo-'));
      const print = (line = ''): void => {
        io.stdout.write(`${line}\n`);
      };
      let server: Awaited<ReturnType<typeof startDemoServer>> | undefined;
      try {
        // Only the indexes ship with the package; the package files are generated for this run.
        const channelDir = await materializeDemoChannel(path.join(workDir, 'channel'));
        server = await startDemoServer(channelDir);
        // The demo talks to 127.0.0.1 only: ignore proxies and offline mode from the caller's environment.
        const settings = cliSettings({ ...io, env: {} }, { ...global, offline: false }, { remoteBackoffFactor: 0 });
        print(`conda-gateway demo: channel ${channelDir} served at ${server.url}`);
        let index = 1;
        for (const step of DEMO_STEPS) {
          print();
          print(`${index++}. ${step.title}`);
          const started = performance.now();
          await step.run({ io, global, server, settings, workDir, channelDir, print });
          print(`   done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
        }
        print();
        print(`${server.requests.length} requests served; everything verified. Work files were in ${workDir} (removed).`);
      } catch (err) {
        env.setExitCode(renderError(io, err, { verbose: global.verbose }));
      } finally {
        await server?.close();
        await fs.rm(workDir, { recursive: true, force: true });
      }
    });
};
