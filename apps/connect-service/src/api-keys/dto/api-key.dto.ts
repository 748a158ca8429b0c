import { PageDto, PageQueryDto } from '@app/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDate,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { ROLES, Role } from '@app/auth';
import { ApiKeyEntity } from '@app/database';
import { keyPrefixOf } from '../api-key-format';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'order-service (production)', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ enum: ROLES, example: 'operator' })
  @IsIn(ROLES)
  role!: Role;

  @ApiProperty({
    example: ['payments:read', 'payments:write'],
    description: 'Each must be a scope the creating caller holds itself (no escalation).',
  })
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(/^[a-z][a-z_-]*:[a-z][a-z_-]*$/, { each: true })
  scopes!: string[];

  @ApiPropertyOptional({ example: 'tenant_acme', description: 'Required unless `role` is `platform`.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;

  @ApiPropertyOptional({
    example: '2027-01-01T00:00:00.000Z',
    description: 'Omitted: the key never expires.',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  expires_at?: Date;
}

export class ListApiKeysQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'tenant_acme' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;
}

/** A key as every read shows it: never the secret, never its hash. */
export class ApiKeyDto {
  @ApiProperty({ format: 'uuid', example: '0b6c3f0e-8a43-4c55-9d0c-3f4a1e2b7c11' })
  id!: string;

  @ApiProperty({ example: 'ck_test_3f9a0c2e7b1d4e5f6a7b', description: 'The visible part of the key.' })
  key_prefix!: string;

  @ApiProperty({ example: 'order-service (production)' })
  name!: string;

  @ApiProperty({ enum: ROLES, example: 'operator' })
  role!: string;

  @ApiProperty({ example: ['payments:read', 'payments:write'] })
  scopes!: string[];

  @ApiProperty({ example: 'tenant_acme', nullable: true, type: String })
  tenant_id!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' })
  expires_at!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' })
  revoked_at!: string | null;

  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'Set once rotated.',
  })
  replaced_by_id!: string | null;

  @ApiProperty({ example: '2026-01-02T10:00:00.000Z', nullable: true, type: String, format: 'date-time' })
  last_used_at!: string | null;

  @ApiProperty({ example: 'platform-admin' })
  created_by!: string;

  @ApiProperty({ example: '2026-01-01T10:00:00.000Z', format: 'date-time' })
  created_at!: string;

  static from(e: ApiKeyEntity): ApiKeyDto {
    return {
      id: e.id,
      key_prefix: keyPrefixOf(e.env, e.public_id),
      name: e.name,
      role: e.role,
      scopes: e.scopes,
      tenant_id: e.tenant_id,
      expires_at: e.expires_at?.toISOString() ?? null,
      revoked_at: e.revoked_at?.toISOString() ?? null,
      replaced_by_id: e.replaced_by_id,
      last_used_at: e.last_used_at?.toISOString() ?? null,
      created_by: e.created_by,
      created_at: e.created_at.toISOString(),
    };
  }
}

export class ApiKeyCreatedDto extends ApiKeyDto {
  @ApiProperty({
    example: 'ck_test_3f9a0c2e7b1d4e5f6a7b_q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c',
    description: 'The full key. Shown in this response only: store it now.',
  })
  key!: string;
}

export class ApiKeyListDto extends PageDto(ApiKeyDto) {}
