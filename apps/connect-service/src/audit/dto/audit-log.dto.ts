import { PageDto, PageQueryDto } from '@app/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { AuditLogEntity } from '@app/database';
import { AUDIT_ACTIONS } from '../audit-actions';

export class ListAuditLogQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'tenant_acme',
    description: 'Platform only; tenant admins always see their own.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS, example: 'payment.create' })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: string;
}

export class AuditLogEntryDto {
  @ApiProperty({ format: 'uuid', example: '0b6c3f0e-8a43-4c55-9d0c-3f4a1e2b7c11' })
  id!: string;

  @ApiProperty({
    example: 'user-42',
    nullable: true,
    type: String,
    description: 'JWT sub or API key public id.',
  })
  actor!: string | null;

  @ApiProperty({ example: 'user', enum: ['user', 'api_key', 'anonymous', 'stripe', 'system'] })
  actor_type!: string;

  @ApiProperty({ example: 'tenant_acme', nullable: true, type: String })
  tenant_id!: string | null;

  @ApiProperty({ enum: AUDIT_ACTIONS, example: 'payment.create' })
  action!: string;

  @ApiProperty({ example: 'payment_route', nullable: true, type: String })
  target_type!: string | null;

  @ApiProperty({ example: 'c3b7...', nullable: true, type: String })
  target_id!: string | null;

  @ApiProperty({ enum: ['success', 'failure'], example: 'success' })
  outcome!: string;

  @ApiProperty({ example: '203.0.113.7', nullable: true, type: String })
  ip!: string | null;

  @ApiProperty({ example: '5a0e8f1c-2d7b-4c1e-9d3a-0b6c3f0e8a43', nullable: true, type: String })
  request_id!: string | null;

  @ApiProperty({ example: { amount: 1000, currency: 'usd' }, type: 'object', additionalProperties: true })
  details!: Record<string, unknown>;

  @ApiProperty({ example: '2026-01-01T10:00:00.000Z', format: 'date-time' })
  created_at!: string;

  static from(e: AuditLogEntity): AuditLogEntryDto {
    return { ...e, created_at: e.created_at.toISOString() };
  }
}

export class AuditLogListDto extends PageDto(AuditLogEntryDto) {}
