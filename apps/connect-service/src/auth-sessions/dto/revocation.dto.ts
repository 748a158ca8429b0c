import { PageDto, PageQueryDto } from '@app/common';
import { AuthRevocationEntity } from '@app/database';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

/** When the service started: an `issued_before` example that a fresh service accepts (not a fixed past date). */
export const REVOCATION_EXAMPLE_TIME = new Date().toISOString();
const STARTED_AT = REVOCATION_EXAMPLE_TIME;

/**
 * One of: `{jti}`, `{sid}`, `{sub, issued_before}`, `{tenant_id, issued_before}`. Only the `sub` form's fields carry
 * examples, so the body Swagger composes from them is itself a valid request.
 */
export class CreateRevocationDto {
  @ApiPropertyOptional({ description: 'One token (its `jti`), e.g. `4f1c2b9e-7d3a-4e8f-9b61-2c5d8e0a1f37`.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  jti?: string;

  @ApiPropertyOptional({
    description: 'One login session at the identity provider (its `sid`): what a back-channel logout ends.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  sid?: string;

  @ApiPropertyOptional({
    example: 'user_8841',
    description: 'Every token of this subject issued before `issued_before`.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  sub?: string;

  @ApiPropertyOptional({
    description:
      'Alone (with `issued_before`): every token of this tenant. With `jti`/`sid`/`sub`: limits the revocation to ' +
      'callers of this tenant (a platform caller may omit it to revoke across tenants). An admin may only name its own.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  tenant_id?: string;

  @ApiPropertyOptional({
    example: STARTED_AT,
    description:
      'RFC 3339; tokens whose `iat` is earlier are refused. Required for the `sub` and tenant forms.',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  issued_before?: Date;

  @ApiPropertyOptional({ example: 'laptop reported stolen', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class ListRevocationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'tenant_acme',
    description: 'Platform callers: only this tenant’s revocations.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;
}

export class RevocationDto {
  @ApiProperty({ format: 'uuid', example: '6d1f0a52-1c0b-4f0e-8d5b-7a3e2c9f4b10' })
  id!: string;

  @ApiProperty({ enum: ['jti', 'sid', 'sub', 'tenant'], example: 'sub' })
  kind!: string;

  @ApiProperty({ example: 'user_8841', nullable: true, type: String, description: 'The jti, sid or sub.' })
  value!: string | null;

  @ApiProperty({ example: 'tenant_acme', nullable: true, type: String, description: 'null: every tenant.' })
  tenant_id!: string | null;

  @ApiProperty({ example: '2026-12-07T12:00:00.000Z', nullable: true, type: String })
  issued_before!: string | null;

  @ApiProperty({
    example: '2026-12-08T12:00:30.000Z',
    description: 'When no token it covers can still be valid; it disappears from the list then.',
  })
  expires_at!: string;

  @ApiProperty({ example: 'laptop reported stolen', nullable: true, type: String })
  reason!: string | null;

  @ApiProperty({ example: 'platform-backend' })
  created_by!: string;

  @ApiProperty({ example: '2026-12-07T12:00:01.000Z' })
  created_at!: string;

  static from(r: AuthRevocationEntity): RevocationDto {
    return {
      id: r.id,
      kind: r.kind,
      value: r.value,
      tenant_id: r.tenant_id === '' ? null : r.tenant_id,
      issued_before: r.issued_before ? new Date(r.issued_before).toISOString() : null,
      expires_at: new Date(r.expires_at).toISOString(),
      reason: r.reason,
      created_by: r.created_by,
      created_at: new Date(r.created_at).toISOString(),
    };
  }
}

export class RevocationListDto extends PageDto(RevocationDto) {}
