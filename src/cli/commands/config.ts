/** `conda-gateway config [--json]`: the effective settings, where each came from, secrets masked. */
import type { RegisterCommand } from './types.js';

export const registerConfig: RegisterCommand = (program, env) => {
  program
    .command('config')
    .description('show the effective settings and where each came from (.condarc file:line, variable, default); secrets masked')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts: { json?: boolean }) => {
      const { io } = env;
      const global = { ...env.globals(), json: opts.json };
      const [{ cliSettings }, { renderError }, { describeConfig, formatConfig }] = await Promise.all([
        import('../context.js'), import('../render-error.js'), import('../config-report.js'),
      ]);
      try {
        const settings = cliSettings(io, global);
        const report = await describeConfig(settings, io.cwd);
        io.stdout.write(global.json ? `${JSON.stringify({ ok: true, ...report })}\n` : formatConfig(report));
      } catch (err) {
        env.setExitCode(renderError(io, err, { json: global.json, verbose: global.verbose }));
      }
    });
};
