import { registerAs } from '@nestjs/config';
import { list, str, type Env } from './env';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `30s`, `15m`, `2h`, `7d` → seconds; null when the value is not one of those. */
export function parseOffset(value: string): number | null {
  const m = /^(\d{1,6})([smhd])$/.exec(value.trim());
  return m ? Number(m[1]) * UNIT_SECONDS[m[2]] : null;
}

const CONFIGURATIONS = ['merchant', 'recipient', 'customer'];
const DASHBOARDS = ['full', 'express', 'none'];
const FEES = ['application', 'application_custom', 'application_express', 'stripe'];
const LOSSES = ['application', 'stripe'];

/** Problems of the Accounts v2 variables, for validateEnvironment (empty when fine). */
export function accountsV2Problems(env: Env): string[] {
  const problems: string[] = [];
  const bad = list(env, 'REQUIREMENTS_REMINDER_OFFSETS').filter((o) => parseOffset(o) === null);
  if (bad.length) {
    problems.push(
      `REQUIREMENTS_REMINDER_OFFSETS must be comma-separated durations like 30s, 15m, 2h, 7d (bad: ${bad.join(', ')})`,
    );
  }
  const unknown = list(env, 'ACCOUNTS_V2_DEFAULT_CONFIGURATIONS').filter((c) => !CONFIGURATIONS.includes(c));
  if (unknown.length) {
    problems.push(
      `ACCOUNTS_V2_DEFAULT_CONFIGURATIONS accepts ${CONFIGURATIONS.join(', ')} (bad: ${unknown.join(', ')})`,
    );
  }
  for (const [name, allowed] of [
    ['ACCOUNTS_V2_DEFAULT_DASHBOARD', DASHBOARDS],
    ['ACCOUNTS_V2_DEFAULT_FEES_COLLECTOR', FEES],
    ['ACCOUNTS_V2_DEFAULT_LOSSES_COLLECTOR', LOSSES],
  ] as const) {
    const v = str(env, name);
    if (v !== undefined && !allowed.includes(v))
      problems.push(`${name} must be one of ${allowed.join(', ')}`);
  }
  return problems;
}

/** Platform-wide defaults of v2 accounts and the requirement reminder offsets. */
export const accountsV2Config = registerAs('accountsV2', () => {
  const env = process.env;
  const offsets = list(env, 'REQUIREMENTS_REMINDER_OFFSETS');
  const configurations = list(env, 'ACCOUNTS_V2_DEFAULT_CONFIGURATIONS');
  return {
    /** Reminder offsets before a deadline, as written and in seconds, largest first. */
    reminderOffsets: (offsets.length ? offsets : ['7d', '1d'])
      .map((label) => ({ label, seconds: parseOffset(label) ?? 0 }))
      .sort((a, b) => b.seconds - a.seconds),
    defaultConfigurations: (configurations.length ? configurations : ['merchant']) as Array<
      'merchant' | 'recipient' | 'customer'
    >,
    defaultDashboard: (str(env, 'ACCOUNTS_V2_DEFAULT_DASHBOARD') ?? 'express') as 'full' | 'express' | 'none',
    defaultFeesCollector: (str(env, 'ACCOUNTS_V2_DEFAULT_FEES_COLLECTOR') ?? 'stripe') as
      'application' | 'application_custom' | 'application_express' | 'stripe',
    defaultLossesCollector: (str(env, 'ACCOUNTS_V2_DEFAULT_LOSSES_COLLECTOR') ?? 'stripe') as
      'application' | 'stripe',
  };
});
