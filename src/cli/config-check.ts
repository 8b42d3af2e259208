import { buildConfigReport, processIdentity, readProcessEnvironment } from '../config/index.js';

/** `npm run config:check`: validate without connecting; one JSON document; exit 0 or 78 (§4). */
const env = readProcessEnvironment();
if ('error' in env) {
  console.log(JSON.stringify({ ok: false, errors: [env.error], warnings: [], settings: [] }));
  process.exitCode = 78;
} else {
  const report = buildConfigReport(env.values, processIdentity());
  console.log(JSON.stringify(report, null, 2));
  process.exitCode = report.ok ? 0 : 78;
}
