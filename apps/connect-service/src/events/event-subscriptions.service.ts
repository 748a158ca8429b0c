import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { Caller, isPlatform, tenantScopeOf } from '@app/auth';
import { SecretBox, ServiceException, keysetPage, ErrorCode, fieldError } from '@app/common';
import { serviceConfig } from '@app/config';
import { EventSubscriptionEntity, EventSubscriptionStatus } from '@app/database';
import { normalizeEventTypes, subscriptionUrlProblem } from './delivery-policy';
import {
  CreateEventSubscriptionDto,
  EventSubscriptionCreatedDto,
  EventSubscriptionDto,
  EventSubscriptionListDto,
  ListEventSubscriptionsQueryDto,
} from './dto/event-subscription.dto';

/** AAD for the sealed secret: a ciphertext copied to another subscription's row does not open. */
export function subscriptionSecretContext(id: string): string {
  return `event_subscriptions.secret:${id}`;
}

@Injectable()
export class EventSubscriptionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
    @Inject(serviceConfig.KEY) private readonly svc: ConfigType<typeof serviceConfig>,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(EventSubscriptionEntity);
  }

  async create(caller: Caller, dto: CreateEventSubscriptionDto): Promise<EventSubscriptionCreatedDto> {
    const urlProblem = subscriptionUrlProblem(dto.url, { production: this.svc.nodeEnv === 'production' });
    if (urlProblem) {
      throw fieldError('url', `url ${urlProblem}`);
    }
    // Admins subscribe for their own tenant only; only the platform may subscribe to every tenant at once.
    const tenantId = isPlatform(caller) ? (dto.tenant_id ?? null) : tenantScopeOf(caller);
    const id = randomUUID();
    // The Standard Webhooks secret format: `whsec_` + base64 of the key bytes (https://www.standardwebhooks.com/).
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const entity = this.repo.create({
      id,
      tenant_id: tenantId,
      url: dto.url,
      event_types: normalizeEventTypes(dto.event_types),
      description: dto.description ?? null,
      secret_enc: this.secrets.seal(secret, subscriptionSecretContext(id)),
      status: EventSubscriptionStatus.Active,
      created_by: caller.sub,
    });
    const saved = await this.repo.save(entity);
    return { ...EventSubscriptionDto.from(saved), secret };
  }

  async list(caller: Caller, q: ListEventSubscriptionsQueryDto): Promise<EventSubscriptionListDto> {
    const limit = q.limit ?? 20;
    const qb = this.repo.createQueryBuilder('s').where('s.deleted_at IS NULL');
    const scope = tenantScopeOf(caller);
    if (scope !== null) qb.andWhere('s.tenant_id = :tenantId', { tenantId: scope });
    else if (q.tenant_id) qb.andWhere('s.tenant_id = :tenantId', { tenantId: q.tenant_id });
    const page = await keysetPage(qb, { column: 'created_at', limit, cursor: q.cursor });
    return {
      data: page.rows.map((r) => EventSubscriptionDto.from(r)),
      has_more: page.has_more,
      next_cursor: page.next_cursor,
    };
  }

  /** Missing, deleted and foreign subscriptions all answer 404 (no existence leak across tenants). */
  async get(caller: Caller, id: string): Promise<EventSubscriptionEntity> {
    const sub = await this.repo.findOneBy({ id, deleted_at: IsNull() });
    if (!sub || (!isPlatform(caller) && sub.tenant_id !== caller.tenantId)) {
      throw new ServiceException(ErrorCode.NotFound, `No subscription ${id}`);
    }
    return sub;
  }

  /** Soft delete: pending deliveries stop at their next attempt and the delivery history stays readable. */
  async remove(caller: Caller, id: string): Promise<void> {
    const sub = await this.get(caller, id);
    await this.repo.update({ id: sub.id }, { deleted_at: new Date() });
  }

  async enable(caller: Caller, id: string): Promise<EventSubscriptionEntity> {
    const sub = await this.get(caller, id);
    await this.repo.update(
      { id: sub.id },
      {
        status: EventSubscriptionStatus.Active,
        disabled_reason: null,
        disabled_at: null,
        consecutive_failures: 0,
      },
    );
    return this.get(caller, id);
  }
}
