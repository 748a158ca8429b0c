import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDate, IsIn, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { PageDto, PageQueryDto } from '@app/common';
import type { DisputeRecovery } from '@app/database';
import type { DisputeRow } from '../disputes.repository';
import { EVIDENCE_TEXT_FIELDS, EvidenceTextField } from '@app/common/dispute-evidence';

export const DISPUTE_STATUSES = [
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'won',
  'lost',
] as const;

/** Declares each evidence field as an optional string on `target` (validation and Swagger alike). */
function evidenceFields(target: object): void {
  for (const field of EVIDENCE_TEXT_FIELDS) {
    const example =
      field === 'customer_name'
        ? 'Jenny Rosen'
        : field === 'shipping_tracking_number'
          ? '1Z999AA10123456784'
          : undefined;
    ApiPropertyOptional({ type: String, maxLength: 20_000, ...(example ? { example } : {}) })(target, field);
    IsOptional()(target, field);
    IsString()(target, field);
    MaxLength(20_000)(target, field);
  }
}

export class DisputeEvidenceDto {
  [field: string]: string | undefined;
}
evidenceFields(DisputeEvidenceDto.prototype);

/** `{"evidence": {...}, "submit": bool}`, or the same fields flat beside `submit`. */
export class SubmitEvidenceDto {
  [field: string]: unknown;

  @ApiPropertyOptional({
    type: DisputeEvidenceDto,
    example: { customer_name: 'Jenny Rosen', product_description: 'Annual plan' },
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => DisputeEvidenceDto)
  evidence?: DisputeEvidenceDto;

  @ApiPropertyOptional({
    example: false,
    default: false,
    description: 'true sends the evidence to the bank: no change is possible afterwards.',
  })
  @IsOptional()
  @IsBoolean()
  submit?: boolean;
}
evidenceFields(SubmitEvidenceDto.prototype);

/** The evidence fields of a body, nested or flat (nested wins). */
export function evidenceOf(dto: SubmitEvidenceDto): Partial<Record<EvidenceTextField, string>> {
  const out: Partial<Record<EvidenceTextField, string>> = {};
  for (const field of EVIDENCE_TEXT_FIELDS) {
    const value = dto.evidence?.[field] ?? dto[field];
    if (typeof value === 'string') out[field] = value;
  }
  return out;
}

export class DisputeRecoveryMovementDto {
  @ApiProperty({ enum: ['reverse', 'return'] })
  step!: string;

  @ApiProperty({ example: 2000 })
  amount!: number;

  @ApiProperty({
    example: 'trr_1OaBcDeFgHiJkLmN',
    description: 'The transfer reversal (reverse) or transfer (return).',
  })
  stripe_id!: string;

  @ApiProperty({ example: '2026-12-07T14:30:00.000Z' })
  at!: string;
}

export class DisputeRecoveryDto {
  @ApiProperty({
    enum: ['not_applicable', 'none', 'pending', 'reversed', 'returned', 'failed'],
    example: 'reversed',
  })
  status!: string;

  @ApiProperty({ enum: ['none', 'reverse_transfer'], example: 'reverse_transfer' })
  mode!: string;

  @ApiProperty({ example: 'tr_1OaBcDeFgHiJkLmN', nullable: true, type: String })
  transfer_id!: string | null;

  @ApiProperty({ example: 2000 })
  reversed_amount!: number;

  @ApiProperty({ example: 0 })
  returned_amount!: number;

  @ApiProperty({ example: null, nullable: true, type: String })
  failure_code!: string | null;

  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    description: "Stripe's reason when it refused.",
  })
  failure_reason!: string | null;

  @ApiProperty({ type: [DisputeRecoveryMovementDto] })
  movements!: DisputeRecoveryMovementDto[];
}

export class DisputeDto {
  @ApiProperty({ example: '0b8d6c1e-5a7b-4b8e-9d55-3c1f0b8e2a10' })
  id!: string;

  @ApiProperty({ example: 'tenant_acme' })
  tenant_id!: string;

  @ApiProperty({ example: 'du_1OaBcDeFgHiJkLmN' })
  stripe_dispute_id!: string;

  @ApiProperty({
    example: '6a1f3c1e-5a7b-4b8e-9d55-3c1f0b8e2a10',
    nullable: true,
    type: String,
    description: 'Our PaymentRoute.',
  })
  payment_id!: string | null;

  @ApiProperty({ example: 'ch_1OaBcDeFgHiJkLmN', nullable: true, type: String })
  charge_id!: string | null;

  @ApiProperty({ example: 2000 })
  amount!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ example: 'fraudulent' })
  reason!: string;

  @ApiProperty({
    enum: DISPUTE_STATUSES,
    example: 'needs_response',
    description: "Stripe's status, kept exactly.",
  })
  status!: string;

  @ApiProperty({ example: '2026-12-14T14:20:00.000Z', nullable: true, type: String })
  evidence_due_by!: Date | null;

  @ApiProperty({ example: false })
  is_charge_refundable!: boolean;

  @ApiProperty({ example: false })
  evidence_submitted!: boolean;

  @ApiProperty({
    enum: ['platform', 'tenant'],
    example: 'platform',
    description: 'Whose balance carries the loss.',
  })
  liable!: string;

  @ApiProperty({ example: 2000, description: 'Taken from the liable balance (minor units, fee excluded).' })
  funds_withdrawn!: number;

  @ApiProperty({ example: 0 })
  funds_reinstated!: number;

  @ApiProperty({ example: 1500, description: "Stripe's dispute fee on the liable balance." })
  dispute_fee!: number;

  @ApiProperty({ type: DisputeRecoveryDto })
  recovery!: DisputeRecovery;

  @ApiPropertyOptional({
    type: DisputeEvidenceDto,
    description: 'What Stripe holds (evidence and accept answers only).',
  })
  evidence?: Record<string, unknown>;

  @ApiProperty({ example: null, nullable: true, type: String })
  closed_at!: Date | null;

  @ApiProperty({ example: '2026-12-07T14:20:00.000Z' })
  created_at!: Date;

  @ApiProperty({ example: '2026-12-07T14:21:00.000Z' })
  updated_at!: Date;

  static from(r: DisputeRow, evidence?: unknown): DisputeDto {
    const dto: DisputeDto = {
      id: r.id,
      tenant_id: r.tenant_id,
      stripe_dispute_id: r.stripe_dispute_id,
      payment_id: r.payment_id,
      charge_id: r.charge_id,
      amount: r.amount,
      currency: r.currency,
      reason: r.reason,
      status: r.status,
      evidence_due_by: r.evidence_due_by,
      is_charge_refundable: r.is_charge_refundable,
      evidence_submitted: r.evidence_submitted,
      liable: r.liable,
      funds_withdrawn: r.funds_withdrawn,
      funds_reinstated: r.funds_reinstated,
      dispute_fee: r.dispute_fee,
      recovery: r.recovery,
      closed_at: r.closed_at,
      created_at: r.created_at,
      updated_at: r.updated_at,
    };
    if (evidence && typeof evidence === 'object') {
      const e = evidence as Record<string, unknown>;
      dto.evidence = Object.fromEntries(EVIDENCE_TEXT_FIELDS.map((f) => [f, e[f] ?? null]));
    }
    return dto;
  }
}

export class DisputeListDto extends PageDto(DisputeDto) {}

export class ListDisputesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'tenant_acme',
    description: 'Platform callers: any tenant; others: their own.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  tenant_id?: string;

  @ApiPropertyOptional({ enum: DISPUTE_STATUSES })
  @IsOptional()
  @IsIn(DISPUTE_STATUSES)
  status?: string;

  @ApiPropertyOptional({
    name: 'evidence_due_by[lt]',
    example: '2026-12-10T00:00:00Z',
    type: String,
    description: '"Due soon": evidence deadline before this instant.',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  'evidence_due_by[lt]'?: Date;
}
