import { PageDto, PageQueryDto } from '@app/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { EventSubscriptionEntity, EventSubscriptionStatus } from '@app/database';
import { ALL_EVENT_TYPES_WILDCARD, CONNECT_EVENT_TYPES } from '../connect-event-types';

const ACCEPTED_TYPES = [...CONNECT_EVENT_TYPES, ALL_EVENT_TYPES_WILDCARD];

export class CreateEventSubscriptionDto {
  @ApiProperty({
    example: 'https://platform.example.com/hooks/connect',
    description: 'https; plain http only for localhost outside production.',
    maxLength: 2048,
  })
  @IsString()
  @MinLength(8)
  @MaxLength(2048)
  url!: string;

  @ApiProperty({
    example: ['connect.payment.completed', 'connect.payment.failed'],
    enum: ACCEPTED_TYPES,
    isArray: true,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ACCEPTED_TYPES.length)
  @IsIn(ACCEPTED_TYPES, { each: true })
  event_types!: string[];

  @ApiPropertyOptional({
    example: 'tenant_acme',
    description:
      "Admins: their own tenant (the default). Platform: any tenant, or omitted for every tenant's events.",
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;

  @ApiPropertyOptional({ example: 'Order service', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

/** A subscription as every GET shows it: never the secret. */
export class EventSubscriptionDto {
  @ApiProperty({ example: '6c2f7a1e-3b4d-4e5f-9a8b-7c6d5e4f3a2b', format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'tenant_acme', nullable: true, type: String, description: 'null: every tenant.' })
  tenant_id!: string | null;

  @ApiProperty({ example: 'https://platform.example.com/hooks/connect' })
  url!: string;

  @ApiProperty({ example: ['connect.payment.completed'], type: [String] })
  event_types!: string[];

  @ApiProperty({ example: 'Order service', nullable: true, type: String })
  description!: string | null;

  @ApiProperty({ enum: EventSubscriptionStatus, example: EventSubscriptionStatus.Active })
  status!: EventSubscriptionStatus;

  @ApiProperty({ example: null, nullable: true, type: String })
  disabled_reason!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' })
  disabled_at!: string | null;

  @ApiProperty({ example: 0, description: 'Deliveries that failed every attempt since the last success.' })
  consecutive_failures!: number;

  @ApiProperty({ example: '2026-11-26T04:15:27.123Z', format: 'date-time' })
  created_at!: string;

  @ApiProperty({ example: '2026-11-26T04:15:27.123Z', format: 'date-time' })
  updated_at!: string;

  static from(s: EventSubscriptionEntity): EventSubscriptionDto {
    return {
      id: s.id,
      tenant_id: s.tenant_id,
      url: s.url,
      event_types: s.event_types,
      description: s.description,
      status: s.status,
      disabled_reason: s.disabled_reason,
      disabled_at: s.disabled_at ? s.disabled_at.toISOString() : null,
      consecutive_failures: s.consecutive_failures,
      created_at: s.created_at.toISOString(),
      updated_at: s.updated_at.toISOString(),
    };
  }
}

export class EventSubscriptionCreatedDto extends EventSubscriptionDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'The Standard Webhooks signing secret. Shown only in this response: store it now (verify with `new Webhook(secret).verify(body, headers)`).',
  })
  secret!: string;
}

export class EventSubscriptionListDto extends PageDto(EventSubscriptionDto) {}

export class ListEventSubscriptionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'tenant_acme',
    description: 'Platform only: the subscriptions of one tenant.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;
}
