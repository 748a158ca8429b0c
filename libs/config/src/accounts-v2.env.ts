/** Accounts v2 variables' checks, for validateEnvironment (no import of env.ts: it imports this). */
type Env = Record<string, string | undefined>;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `30s`, `15m`, `2h`, `7d` → seconds; null when the value is not one of those. */
export function parseOffset(value: string): number | null {
  const m = /^(\d{1,6})([smhd])$/.exec(value.trim());
  return m ? Number(m[1]) * UNIT_SECONDS[m[2]] : null;
}

const items = (env: Env, name: string): string[] =>
  (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const CONFIGURATIONS = ['merchant', 'recipient', 'customer'];
const ALLOWED: Array<[string, string[]]> = [
  ['ACCOUNTS_V2_DEFAULT_DASHBOARD', ['full', 'express', 'none']],
  [
    'ACCOUNTS_V2_DEFAULT_FEES_COLLECTOR',
    ['application', 'application_custom', 'application_express', 'stripe'],
  ],
  ['ACCOUNTS_V2_DEFAULT_LOSSES_COLLECTOR', ['application', 'stripe']],
];

/** Problems of the Accounts v2 variables (empty when fine). */
export function accountsV2Problems(env: Env): string[] {
  const problems: string[] = [];
  const bad = items(env, 'REQUIREMENTS_REMINDER_OFFSETS').filter((o) => parseOffset(o) === null);
  if (bad.length) {
    problems.push(
      `REQUIREMENTS_REMINDER_OFFSETS must be comma-separated durations like 30s, 15m, 2h, 7d (bad: ${bad.join(', ')})`,
    );
  }
  const unknown = items(env, 'ACCOUNTS_V2_DEFAULT_CONFIGURATIONS').filter((c) => !CONFIGURATIONS.includes(c));
  if (unknown.length) {
    problems.push(
      `ACCOUNTS_V2_DEFAULT_CONFIGURATIONS accepts ${CONFIGURATIONS.join(', ')} (bad: ${unknown.join(', ')})`,
    );
  }
  for (const [name, allowed] of ALLOWED) {
    const v = env[name]?.trim();
    if (v && !allowed.includes(v)) problems.push(`${name} must be one of ${allowed.join(', ')}`);
  }
  return problems;
}
