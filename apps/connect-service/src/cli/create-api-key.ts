/*
 * The first API key, from a shell (nobody can call POST /connect/api-keys before one exists):
 * `npm run api-key:create -- --role platform --scopes "accounts:read payments:write" [--tenant t] [--name n] [--expires <ISO>]`
 * Prints the key once, alone on stdout (`KEY=$(npm run -s api-key:create -- ...)`); only its hash is stored. Nest's
 * logger is limited to errors, which go to stderr.
 */
import { getDataSourceToken } from '@nestjs/typeorm';
import { parseArgs } from 'node:util';
import { isRole } from '@app/auth';
import { DataSource } from 'typeorm';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditLogService } from '../audit/audit-log.service';
import { runCli } from './run-cli';

runCli(
  'api-key:create',
  () => {
    const { values } = parseArgs({
      options: {
        role: { type: 'string' },
        scopes: { type: 'string', default: '' },
        tenant: { type: 'string' },
        name: { type: 'string', default: 'bootstrap key' },
        expires: { type: 'string' },
      },
      allowPositionals: false,
    });
    if (!isRole(values.role)) {
      throw new Error(
        'Usage: api-key:create --role viewer|operator|admin|platform --scopes "a:b c:d" [--tenant t] [--name n] [--expires ISO]',
      );
    }
    const expiresAt = values.expires ? new Date(values.expires) : null;
    if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new Error('--expires must be an ISO-8601 date');
    return { values, role: values.role, expiresAt };
  },
  async (app, { values, role, expiresAt }) => {
    const keys = app.get(ApiKeysService);
    const audit = app.get(AuditLogService);
    const { row, key } = await app.get<DataSource>(getDataSourceToken()).transaction(async (m) => {
      const issued = await keys.issue(m, {
        name: values.name ?? 'bootstrap key',
        role,
        scopes: (values.scopes ?? '').split(/[\s,]+/).filter(Boolean),
        tenantId: values.tenant ?? null,
        expiresAt,
        createdBy: 'cli',
      });
      await audit.record(
        {
          action: 'api_key.create',
          actor: { id: 'cli', type: 'system' },
          tenantId: issued.row.tenant_id,
          targetType: 'api_key',
          targetId: issued.row.id,
        },
        m,
      );
      return issued;
    });
    process.stderr.write(
      `Created API key ${row.id} (role ${row.role}, scopes: ${row.scopes.join(' ') || 'none'}). Store it now; it is not shown again:\n`,
    );
    process.stdout.write(`${key}\n`);
  },
  { logger: ['error'] },
);
