import { PageDto, PageQueryDto, EXAMPLE_DATES } from '@app/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { ConnectEventEntity } from '@app/database';
import { CONNECT_EVENT_TYPES, ConnectEventType } from '../connect-event-types';

/** The seed's ConnectEvent, exactly as it is delivered to subscriptions. */
export class ConnectEventDto {
  @ApiProperty({ example: '0b9f3c1e-6a2d-4f5e-8b7c-1d2e3f4a5b6c', format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: CONNECT_EVENT_TYPES, example: 'connect.payment.routed' })
  type!: ConnectEventType;

  @ApiProperty({ example: 'tenant_acme' })
  tenant_id!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: {
      payment_route_id: '3f1c2b9e-8d4a-4e7b-9c1d-2a5f6e7d8c90',
      amount: 5000,
      currency: 'usd',
      fee: 250,
    },
  })
  data!: Record<string, unknown>;

  @ApiProperty({ example: '2026-11-26T04:15:27.123Z', format: 'date-time' })
  created_at!: string;

  static from(e: ConnectEventEntity): ConnectEventDto {
    return {
      id: e.id,
      type: e.type as ConnectEventType,
      tenant_id: e.tenant_id,
      data: e.data,
      created_at: e.created_at.toISOString(),
    };
  }
}

export class ConnectEventListDto extends PageDto(ConnectEventDto) {}

export class ListConnectEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'tenant_acme',
    description: 'Platform callers may name any tenant; others only their own.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;

  @ApiPropertyOptional({ enum: CONNECT_EVENT_TYPES, example: 'connect.payment.completed' })
  @IsOptional()
  @IsIn(CONNECT_EVENT_TYPES)
  type?: ConnectEventType;

  @ApiPropertyOptional({
    example: EXAMPLE_DATES.yearStart,
    format: 'date-time',
    description: 'Events created at or after this instant.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_gte?: string;

  @ApiPropertyOptional({
    example: EXAMPLE_DATES.nextYearStart,
    format: 'date-time',
    description: 'Events created before this instant.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  created_lt?: string;
}
