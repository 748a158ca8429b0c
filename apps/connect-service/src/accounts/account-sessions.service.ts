import { Injectable } from '@nestjs/common';
import { Caller, Role } from '@app/auth';
import { ErrorCode, ServiceException } from '@app/common';
import { StripeAccountSessionCreateParams, StripeGateway } from '@app/stripe-gateway';
import { AuditLogService } from '../audit/audit-log.service';
import { COMPONENT_FEATURES, grantComponents } from './account-sessions.policy';
import { AccountsService } from './accounts.service';
import { AccountSessionDto, CreateAccountSessionDto } from './dto/account-session.dto';
import type { ConnectAccountDto } from './dto/connect-account.dto';

const ORDER: Role[] = ['platform', 'admin', 'operator', 'viewer'];

/**
 * Account Sessions for embedded components (https://docs.stripe.com/connect/get-started-connect-embedded-components):
 * the caller's role decides what is enabled (account-sessions.policy.ts). The client_secret only passes through:
 * never stored, cached, logged or audited (the audit row names who opened which components).
 */
@Injectable()
export class AccountSessionsService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly gateway: StripeGateway,
    private readonly audit: AuditLogService,
  ) {}

  async create(tenantId: string, caller: Caller, dto: CreateAccountSessionDto): Promise<AccountSessionDto> {
    const unknown = Object.keys(dto.components).filter((c) => !COMPONENT_FEATURES[c]);
    if (unknown.length || !Object.keys(dto.components).length) {
      throw new ServiceException(ErrorCode.ValidationFailed, 'Validation failed', {
        fields: [
          {
            field: 'components',
            errors: unknown.length
              ? unknown.map((c) => `"${c}" is not an embedded component`)
              : ['name at least one component'],
          },
        ],
      });
    }
    // The account's view as GET /connect/accounts/:tenantId answers it: a warm cache costs one Redis GET, no SQL.
    const row = JSON.parse(await this.accounts.getViewJson(tenantId)) as ConnectAccountDto;
    if (row.disconnected_at) throw new ServiceException(ErrorCode.Conflict, 'The account is disconnected');
    const role = ORDER.find((r) => caller.roles.includes(r)) ?? 'viewer';
    const grant = grantComponents(role, dto.components, row.responsibilities?.requirements_collector ?? null);
    if (!Object.keys(grant.components).length) {
      throw new ServiceException(ErrorCode.Forbidden, 'The caller may open none of these components', {
        refused: grant.refused,
      });
    }
    const session = await this.gateway.v2.createAccountSession({
      account: row.stripe_account_id,
      components: grant.components as StripeAccountSessionCreateParams['components'],
    });
    this.audit.recordDetached({
      action: 'account.session.create',
      tenantId,
      targetType: 'connect_account',
      targetId: row.stripe_account_id,
      details: { role, components: Object.keys(grant.components), refused: grant.refused },
    });
    const granted: AccountSessionDto['components'] = {};
    const answered = session.components as unknown as Record<
      string,
      { enabled: boolean; features?: Record<string, boolean> }
    >;
    for (const name of Object.keys(grant.components)) {
      granted[name] = {
        enabled: answered?.[name]?.enabled ?? true,
        features: answered?.[name]?.features ?? grant.components[name].features,
      };
    }
    return {
      client_secret: session.client_secret,
      expires_at: new Date(session.expires_at * 1000).toISOString(),
      stripe_account_id: row.stripe_account_id,
      components: granted,
      refused: grant.refused,
    };
  }
}
