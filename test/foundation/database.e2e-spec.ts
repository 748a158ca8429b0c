import { DataSource, QueryFailedError } from 'typeorm';
import {
  afterCommit,
  ConnectAccountEntity,
  ConnectAccountStatus,
  dataSourceOptions,
  OnboardingMethod,
  runMigrationsLocked,
  schemaDiff,
  StripeAccountType,
} from '@app/database';
import { assertTestDatabase, uniqueTenant } from '../support/app';

describe('database: migrations, constraints, test-database guard', () => {
  let ds: DataSource;

  beforeAll(async () => {
    await assertTestDatabase();
    ds = await new DataSource(dataSourceOptions(process.env.DATABASE_URL!, 4)).initialize();
    // Concurrent runners (replicas booting together) serialise on the advisory lock.
    await Promise.all([runMigrationsLocked(ds), runMigrationsLocked(ds)]);
  });
  afterAll(async () => ds?.destroy());

  it('has migrations that match the entities exactly (synchronize stays off)', async () => {
    expect(ds.options.synchronize).toBe(false);
    expect(await ds.showMigrations()).toBe(false);
    const diff = await schemaDiff(ds);
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('keeps one account per tenant and one tenant per Stripe account', async () => {
    const repo = ds.getRepository(ConnectAccountEntity);
    const tenant = uniqueTenant();
    const base = {
      status: ConnectAccountStatus.Pending,
      onboarding_method: OnboardingMethod.AccountLink,
      account_type: StripeAccountType.Express,
    };
    await repo.insert({ ...base, tenant_id: tenant, stripe_account_id: `acct_${tenant}` });
    await expect(
      repo.insert({ ...base, tenant_id: tenant, stripe_account_id: `acct_${tenant}_2` }),
    ).rejects.toBeInstanceOf(QueryFailedError);
    await expect(
      repo.insert({ ...base, tenant_id: `${tenant}_2`, stripe_account_id: `acct_${tenant}` }),
    ).rejects.toBeInstanceOf(QueryFailedError);
    const row = await repo.findOneByOrFail({ tenant_id: tenant });
    expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row.created_at).toBeInstanceOf(Date);
  });

  it('refuses a database that is not marked as a test database', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = '/postgres';
    await expect(assertTestDatabase(url.toString())).rejects.toThrow(/not marked as a test database/);
  });

  it('runs after-commit callbacks only once the outermost transaction commits, never after a rollback', async () => {
    const ran: string[] = [];
    await ds.transaction(async (m) => {
      await afterCommit(m, () => void ran.push('outer'));
      await m.transaction(async (inner) => afterCommit(inner, () => void ran.push('nested')));
      expect(ran).toEqual([]);
    });
    expect(ran).toEqual(['outer', 'nested']);
    await expect(
      ds.transaction(async (m) => {
        await afterCommit(m, () => void ran.push('rolled back'));
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await afterCommit(ds.manager, () => void ran.push('no transaction'));
    expect(ran).toEqual(['outer', 'nested', 'no transaction']);
  });
});
