import { VARIABLE_GROUPS, type ParsedValue, type VariableSpec } from './variables.js';

// The env file text generated from the variable table: `.env.example` is exactly
// `renderEnvTemplate()`, and gen-env (OPERATIONS.md §4) passes the values it generated so they
// are written uncommented while every other variable stays commented out with its default.

const HEADER = [
  '# AITP control plane configuration: every variable of OPERATIONS.md §2, grouped as there.',
  '# A commented-out or empty variable takes its default. [secret] values never appear in logs,',
  '# errors or config:check; [required in production] ones must be set when NODE_ENV=production.',
  '# Generated from src/config/variables.ts by renderEnvTemplate(); a unit test keeps it in step.',
];

/** A parsed default written back as env text: lists comma-joined, unset as empty. */
export function formatDefault(value: ParsedValue): string {
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Quotes a value unless it is plainly safe unquoted (parse-compatible with env-file.ts). */
function formatEnvValue(value: string): string {
  return /^[\w.,:/@*+-]*$/.test(value) ? value : JSON.stringify(value);
}

function describe(variable: VariableSpec): string {
  const tags = [variable.secret ? 'secret' : '', variable.requiredInProduction ? 'required in production' : '']
    .filter((tag) => tag !== '');
  const prefix = tags.length > 0 ? `[${tags.join(', ')}] ` : '';
  const computed = 'compute' in variable.default ? `. Default: ${variable.default.text}` : '';
  return `# ${prefix}${variable.description}${computed}`;
}

function renderVariable(variable: VariableSpec, values: Readonly<Record<string, string>>): string[] {
  const given = values[variable.name];
  if (given !== undefined) return [describe(variable), `${variable.name}=${formatEnvValue(given)}`];
  const fallback = 'value' in variable.default ? formatDefault(variable.default.value) : '';
  return [describe(variable), `# ${variable.name}=${fallback}`];
}

/** The whole env file; `values` are written as live assignments (gen-env), the rest commented. */
export function renderEnvTemplate(values: Readonly<Record<string, string>> = {}): string {
  const lines = [...HEADER];
  for (const group of VARIABLE_GROUPS) {
    lines.push('', `# ---- ${group.section} ${group.title} ----`);
    for (const variable of group.variables) lines.push('', ...renderVariable(variable, values));
  }
  return `${lines.join('\n')}\n`;
}
