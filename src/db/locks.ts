// Advisory lock keys (DATA-MODEL.md §Migrations and locks). Passed as strings: they do not fit
// in a JS number.
export const MIGRATION_LOCK_KEY = '4704383989635958528'; // 0x414954504D494700 "AITPMIG\0"
export const RETENTION_LOCK_KEY = '4704383989719585792'; // 0x4149545052455400 "AITPRET\0"
export const AUDIT_LOG_LOCK_KEY = '4704383989435417600'; // 0x4149545041554400 "AITPAUD\0"
