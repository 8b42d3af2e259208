import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readVerifierEnvironment } from '../config/verifier-env.js';
import { verifyAuditLog } from '../domains/audit-log/verify-log.js';

const USAGE = 'usage: npm run audit:verify -- [--url <cp base url>] [--checkpoint <file>] [--full] [--samples <n>]';

/**
 * `npm run audit:verify`: exit 0 when the CP's audit log verifies, 1 when it does not (the
 * first failing leaf index is printed), 2 on bad usage. The API key comes from AITP_API_KEY.
 */
async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { url: { type: 'string' }, checkpoint: { type: 'string' }, full: { type: 'boolean', default: false }, samples: { type: 'string', default: '32' } },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const env = readVerifierEnvironment();
  const samples = Number(args.samples);
  if (!Number.isInteger(samples) || samples < 0) {
    console.error(`--samples must be a non-negative integer\n${USAGE}`);
    return 2;
  }
  let savedCheckpoint: string | undefined;
  if (args.checkpoint !== undefined) {
    try {
      savedCheckpoint = readFileSync(args.checkpoint, 'utf8');
    } catch (err) {
      console.error(`cannot read ${args.checkpoint}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return 2;
    }
  }
  const report = await verifyAuditLog({
    baseUrl: args.url ?? env.url ?? 'http://localhost:4000',
    apiKey: env.apiKey,
    savedCheckpoint,
    full: args.full,
    samples,
    nowSecs: Math.floor(Date.now() / 1000),
  });
  console.log(JSON.stringify(report));
  if (report.ok) return 0;
  console.error(report.index === undefined ? `audit log does not verify: ${report.problem}` : `audit log does not verify at index ${report.index}: ${report.problem}`);
  return 1;
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(`audit:verify failed: ${(err as Error).message}`);
  return 1;
});
