import { registerAs } from '@nestjs/config';
import { parseOffset } from './accounts-v2.env';
import { list, str } from './env';

export { accountsV2Problems, parseOffset } from './accounts-v2.env';

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
