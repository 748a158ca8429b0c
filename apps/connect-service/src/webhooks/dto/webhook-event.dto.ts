import { PageDto, PageQueryDto, EXAMPLE_DATES } from '@app/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { StripeWebhookEventEntity, StripeWebhookEventSource, StripeWebhookEventStatus } from '@app/database';

/** One row of the webhook inbox, for operators. */
export class WebhookEventDto {
  @ApiProperty({ example: '6f1d2c3b-4a5e-4f60-8b7c-9d0e1f2a3b4c', format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'evt_1QxYz2AbCdEfGhIj' })
  stripe_event_id!: string;

  @ApiProperty({ example: 'account.updated' })
  type!: string;

  @ApiProperty({
    example: 'acct_1QxYz2AbCdEfGhIj',
    nullable: true,
    type: String,
    description: 'event.account; null for platform events.',
  })
  stripe_account_id!: string | null;

  @ApiProperty({
    example: 'tenant_acme',
    nullable: true,
    type: String,
    description: 'Null until processed, and for unmatched events.',
  })
  tenant_id!: string | null;

  @ApiProperty({ example: false })
  livemode!: boolean;

  @ApiProperty({ example: '2026-10-28.endive', nullable: true, type: String })
  api_version!: string | null;

  @ApiProperty({ example: 1764130000, description: "Stripe's `created` (unix seconds)." })
  event_created!: number;

  @ApiProperty({
    enum: StripeWebhookEventStatus,
    enumName: 'StripeWebhookEventStatus',
    example: StripeWebhookEventStatus.Processed,
  })
  status!: StripeWebhookEventStatus;

  @ApiProperty({
    example: 'applied',
    nullable: true,
    type: String,
    description:
      'applied, stale, skipped, no_handler, unmatched, livemode_mismatch or platform_ignored; null while pending.',
  })
  outcome!: string | null;

  @ApiProperty({ example: 1, description: 'Processing attempts so far.' })
  attempts!: number;

  @ApiProperty({ example: null, nullable: true, type: String, description: 'Why the last attempt failed.' })
  last_error!: string | null;

  @ApiProperty({
    enum: StripeWebhookEventSource,
    enumName: 'StripeWebhookEventSource',
    example: StripeWebhookEventSource.Webhook,
  })
  source!: StripeWebhookEventSource;

  @ApiProperty({ example: '2026-11-26T04:15:27.123Z', format: 'date-time' })
  received_at!: string;

  @ApiProperty({ example: '2026-11-26T04:15:27.456Z', format: 'date-time', nullable: true, type: String })
  processed_at!: string | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'The event as Stripe sent it (single-event view only).',
    example: { id: 'evt_1QxYz2AbCdEfGhIj', object: 'event', type: 'account.updated', data: { object: {} } },
  })
  payload?: Record<string, unknown>;

  static from(e: StripeWebhookEventEntity, withPayload = false): WebhookEventDto {
    return {
      id: e.id,
      stripe_event_id: e.stripe_event_id,
      type: e.type,
      stripe_account_id: e.stripe_account_id,
      tenant_id: e.tenant_id,
      livemode: e.livemode,
      api_version: e.api_version,
      event_created: e.event_created,
      status: e.status,
      outcome: e.outcome,
      attempts: e.attempts,
      last_error: e.last_error,
      source: e.source,
      received_at: e.received_at.toISOString(),
      processed_at: e.processed_at ? e.processed_at.toISOString() : null,
      ...(withPayload ? { payload: e.payload } : {}),
    };
  }
}

export class WebhookEventListDto extends PageDto(WebhookEventDto) {}

export class ListWebhookEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: StripeWebhookEventStatus,
    enumName: 'StripeWebhookEventStatus',
    example: 'failed',
  })
  @IsOptional()
  @IsEnum(StripeWebhookEventStatus)
  status?: StripeWebhookEventStatus;

  @ApiPropertyOptional({ example: 'payment_intent.succeeded' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  type?: string;

  @ApiPropertyOptional({
    example: 'tenant_acme',
    description: 'Platform callers may name any tenant; admins only their own.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;

  @ApiPropertyOptional({
    example: EXAMPLE_DATES.today,
    format: 'date-time',
    description: 'Received at or after this instant.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_gte?: string;

  @ApiPropertyOptional({
    example: EXAMPLE_DATES.tomorrow,
    format: 'date-time',
    description: 'Received at or before this instant.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_lte?: string;
}
