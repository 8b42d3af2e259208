import { readProcessEnvironment } from './index.js';

/** What `npm run audit:verify` takes from the environment (or `.env`): never logged. */
export interface VerifierEnvironment {
  /** AITP_API_KEY: an API key of the CP, for entries and proofs. */
  apiKey?: string;
  /** AITP_CP_URL: the CP base URL when `--url` is not given. */
  url?: string;
}

export function readVerifierEnvironment(cwd: string = process.cwd()): VerifierEnvironment {
  const env = readProcessEnvironment(cwd);
  const values = 'values' in env ? env.values : {};
  const pick = (name: string) => (values[name] === undefined || values[name] === '' ? undefined : values[name]);
  return { apiKey: pick('AITP_API_KEY'), url: pick('AITP_CP_URL') };
}
