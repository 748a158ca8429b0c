import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox } from '@app/common';
import { StripeGateway } from '@app/stripe-gateway';
import { EventDestinationDto, UpsertEventDestinationDto } from './dto/event-destination.dto';
import { EventDestinationRow, EventDestinationsRepository } from './event-destinations.repository';

/** Thin events about accounts and account links (https://docs.stripe.com/api/v2/core/accounts/event-types). */
export const DEFAULT_THIN_EVENT_TYPES = [
  'v2.core.account.created',
  'v2.core.account.updated',
  'v2.core.account.closed',
  'v2.core.account[requirements].updated',
  'v2.core.account[future_requirements].updated',
  'v2.core.account[identity].updated',
  'v2.core.account[defaults].updated',
  'v2.core.account[configuration.customer].updated',
  'v2.core.account[configuration.merchant].updated',
  'v2.core.account[configuration.recipient].updated',
  'v2.core.account[configuration.customer].capability_status_updated',
  'v2.core.account[configuration.merchant].capability_status_updated',
  'v2.core.account[configuration.recipient].capability_status_updated',
  'v2.core.account_link.returned',
];

/** How long a replica trusts its copy of the secrets before reading them again. */
const SECRETS_TTL_MS = 5_000;

/** The SecretBox context of a destination's secret: bound to its row, so a ciphertext copied elsewhere does not open. */
export const eventDestinationSecretContext = (rowId: string) => `event_destinations.secret_enc:${rowId}`;

/**
 * The service's own event destination at Stripe (thin payloads from every connected account) and the signing
 * secrets the intake verifies with. Stripe shows a secret once, at creation (https://docs.stripe.com/api/v2/core/event-destinations/create):
 * it is sealed at rest and never answered.
 */
@Injectable()
export class EventDestinationsService {
  private readonly logger = new Logger('Webhooks');
  private cached: { at: number; secrets: string[] } | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly gateway: StripeGateway,
    private readonly repo: EventDestinationsRepository,
    private readonly box: SecretBox,
  ) {}

  /** Creates the destination the first time, then updates it (url, events); answers it without the secret. */
  async upsert(dto: UpsertEventDestinationDto): Promise<EventDestinationDto> {
    const name = dto.name ?? 'connect-service thin events';
    const enabled = dto.enabled_events ?? DEFAULT_THIN_EVENT_TYPES;
    const [current] = await this.repo.list(this.dataSource);
    const d = current
      ? await this.gateway.v2.updateEventDestination(current.stripe_destination_id, {
          name,
          enabled_events: enabled,
          webhook_endpoint: { url: dto.url },
          include: ['webhook_endpoint.url'],
        })
      : await this.gateway.v2.createEventDestination({
          name,
          type: 'webhook_endpoint',
          event_payload: 'thin',
          events_from: ['@accounts', '@self'],
          enabled_events: enabled,
          webhook_endpoint: { url: dto.url },
          include: ['webhook_endpoint.signing_secret', 'webhook_endpoint.url'],
        });
    // Only a creation answers the secret; an update keeps the stored one.
    const secret = d.webhook_endpoint?.signing_secret;
    if (!current && !secret)
      this.logger.warn(`Stripe answered no signing secret for event destination ${d.id}`);
    const rowId = current?.id ?? randomUUID();
    const row: EventDestinationRow = await this.repo.upsert(this.dataSource, {
      id: rowId,
      stripe_destination_id: d.id,
      name: d.name,
      url: d.webhook_endpoint?.url ?? dto.url,
      enabled_events: d.enabled_events,
      status: d.status,
      secret_enc: secret ? this.box.seal(secret, eventDestinationSecretContext(rowId)) : null,
    });
    this.cached = null;
    return toDto(row);
  }

  async list(): Promise<EventDestinationDto[]> {
    return (await this.repo.list(this.dataSource)).map(toDto);
  }

  /** Every stored secret, opened; read again after SECRETS_TTL_MS or when `fresh` (a signature matched none). */
  async secrets(fresh = false): Promise<string[]> {
    if (!fresh && this.cached && Date.now() - this.cached.at < SECRETS_TTL_MS) return this.cached.secrets;
    const sealed = await this.repo.sealedSecrets(this.dataSource);
    const secrets: string[] = [];
    for (const s of sealed) {
      try {
        secrets.push(this.box.open(s.secret_enc, eventDestinationSecretContext(s.id)));
      } catch (err) {
        // A secret sealed with a key this replica lacks verifies nothing here; the others still do.
        this.logger.error(`event destination ${s.stripe_destination_id}: ${(err as Error).message}`);
      }
    }
    this.cached = { at: Date.now(), secrets };
    return secrets;
  }
}

function toDto(row: EventDestinationRow): EventDestinationDto {
  return {
    id: row.stripe_destination_id,
    name: row.name,
    url: row.url,
    enabled_events: row.enabled_events,
    status: row.status,
    has_secret: row.secret_enc !== null,
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
