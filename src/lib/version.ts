import { readFileSync } from 'node:fs';

/** package.json version, read once at boot (not npm_package_version, which only npm sets). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const SERVICE_NAME = 'aitp-control-plane';
