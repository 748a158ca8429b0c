import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageDto, PageQueryDto } from '@app/common';
import type { StripeBalance, StripeBalanceTransaction } from '@app/stripe-gateway';
import type { PayoutSums } from '../payout-reconciliation';
import type { PayoutRow } from '../payouts.repository';

export const PAYOUT_STATUSES = ['pending', 'in_transit', 'paid', 'failed', 'canceled'] as const;

export class CurrencyBalanceDto {
  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ example: 12500, description: 'Minor units that can be paid out now.' })
  available!: number;

  @ApiProperty({ example: 3000, description: 'Minor units not yet available.' })
  pending!: number;

  @ApiProperty({
    example: 12500,
    nullable: true,
    type: Number,
    description: 'Minor units an instant payout can take now; null when Stripe gives none for the account.',
  })
  instant_available!: number | null;
}

export class BalanceDto {
  @ApiProperty({ example: 'tenant_acme' })
  tenant_id!: string;

  @ApiProperty({ example: 'acct_1Nv0FGQ9RKHgCVdK' })
  stripe_account_id!: string;

  @ApiProperty({ type: [CurrencyBalanceDto] })
  balances!: CurrencyBalanceDto[];

  @ApiProperty({ example: '2026-12-07T14:20:00.000Z', description: 'When this was read from Stripe.' })
  fetched_at!: string;

  @ApiProperty({ example: false, description: 'true: Stripe could not be reached; this is the last read.' })
  stale!: boolean;

  static from(
    tenantId: string,
    account: string,
    b: StripeBalance,
    fetchedAt: string,
    stale: boolean,
  ): BalanceDto {
    const currencies = new Set([...b.available, ...b.pending].map((x) => x.currency));
    const sum = (list: Array<{ amount: number; currency: string }> | undefined, c: string) =>
      (list ?? []).filter((x) => x.currency === c).reduce((s, x) => s + x.amount, 0);
    return {
      tenant_id: tenantId,
      stripe_account_id: account,
      balances: [...currencies].sort().map((currency) => ({
        currency,
        available: sum(b.available, currency),
        pending: sum(b.pending, currency),
        instant_available: b.instant_available ? sum(b.instant_available, currency) : null,
      })),
      fetched_at: fetchedAt,
      stale,
    };
  }
}

export class PayoutDto {
  @ApiProperty({ example: '6a1f3c1e-5a7b-4b8e-9d55-3c1f0b8e2a10' })
  id!: string;

  @ApiProperty({ example: 'tenant_acme' })
  tenant_id!: string;

  @ApiProperty({ example: 'po_1OaBcDeFgHiJkLmN' })
  stripe_payout_id!: string;

  @ApiProperty({ example: 'acct_1Nv0FGQ9RKHgCVdK' })
  stripe_account_id!: string;

  @ApiProperty({ example: 12500 })
  amount!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ enum: PAYOUT_STATUSES, example: 'paid' })
  status!: string;

  @ApiProperty({ enum: ['standard', 'instant'], example: 'standard' })
  method!: string;

  @ApiProperty({ example: true, description: 'Created by the payout schedule (false: manual or instant).' })
  automatic!: boolean;

  @ApiProperty({ example: '2026-12-09T00:00:00.000Z', nullable: true, type: String })
  arrival_date!: Date | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  failure_code!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  failure_message!: string | null;

  @ApiProperty({ enum: ['not_applicable', 'in_progress', 'completed'], example: 'completed' })
  reconciliation_status!: string;

  @ApiProperty({ example: null, nullable: true, type: String })
  description!: string | null;

  @ApiProperty({ example: '2026-12-07T14:20:00.000Z' })
  created_at!: Date;

  @ApiProperty({ example: '2026-12-07T14:25:00.000Z' })
  updated_at!: Date;

  static from(r: PayoutRow): PayoutDto {
    return {
      id: r.id,
      tenant_id: r.tenant_id,
      stripe_payout_id: r.stripe_payout_id,
      stripe_account_id: r.stripe_account_id,
      amount: r.amount,
      currency: r.currency,
      status: r.status,
      method: r.method,
      automatic: r.automatic,
      arrival_date: r.arrival_date,
      failure_code: r.failure_code,
      failure_message: r.failure_message,
      reconciliation_status: r.reconciliation_status,
      description: r.description,
      created_at: r.created_at,
      updated_at: r.updated_at,
    };
  }
}

export class PayoutListDto extends PageDto(PayoutDto) {}

export class ListPayoutsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: PAYOUT_STATUSES })
  @IsOptional()
  @IsIn(PAYOUT_STATUSES)
  status?: string;

  @ApiPropertyOptional({ name: 'created[gte]', example: '2026-12-01T00:00:00Z', type: String })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  'created[gte]'?: Date;

  @ApiPropertyOptional({ name: 'created[lt]', example: '2027-01-01T00:00:00Z', type: String })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  'created[lt]'?: Date;

  @ApiPropertyOptional({ name: 'arrival_date[gte]', example: '2026-12-01T00:00:00Z', type: String })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  'arrival_date[gte]'?: Date;

  @ApiPropertyOptional({ name: 'arrival_date[lt]', example: '2027-01-01T00:00:00Z', type: String })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  'arrival_date[lt]'?: Date;
}

export class CreatePayoutDto {
  @ApiProperty({ example: 5000, description: 'Minor units of `currency`.' })
  @IsInt()
  @Min(1)
  @Max(99_999_999)
  amount!: number;

  @ApiProperty({ example: 'usd' })
  @IsString()
  @Matches(/^[a-z]{3}$/, { message: 'currency must be a lower-case ISO 4217 code' })
  currency!: string;

  @ApiPropertyOptional({
    enum: ['standard', 'instant'],
    default: 'standard',
    description: 'standard needs a `manual` payout schedule; instant takes the instant-available balance.',
  })
  @IsOptional()
  @IsIn(['standard', 'instant'])
  method?: 'standard' | 'instant';

  @ApiPropertyOptional({ example: 'December withdrawal' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

export class PayoutTransactionDto {
  @ApiProperty({ example: 'txn_1OaBcDeFgHiJkLmN' })
  id!: string;

  @ApiProperty({ example: 'charge' })
  type!: string;

  @ApiProperty({ example: 'charge' })
  reporting_category!: string;

  @ApiProperty({ example: 2000 })
  amount!: number;

  @ApiProperty({ example: 88 })
  fee!: number;

  @ApiProperty({ example: 1912 })
  net!: number;

  @ApiProperty({ example: 'usd' })
  currency!: string;

  @ApiProperty({ example: 'ch_1OaBcDeFgHiJkLmN', nullable: true, type: String })
  source!: string | null;

  @ApiProperty({ example: '2026-12-05T10:00:00.000Z' })
  created!: Date;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Our PaymentRoute, when the source is our payment.',
  })
  payment_id!: string | null;

  @ApiProperty({ nullable: true, type: String, example: null })
  refund_id!: string | null;

  @ApiProperty({ nullable: true, type: String, example: null })
  transfer_id!: string | null;

  @ApiProperty({ nullable: true, type: String, example: null })
  dispute_id!: string | null;
}

export class PayoutTotalsDto {
  @ApiProperty({ example: 2000, description: 'Sum of `amount` of what the payout settled.' })
  gross!: number;

  @ApiProperty({ example: 88 })
  fees!: number;

  @ApiProperty({ example: 1912, description: 'Sum of `net`: equals the payout amount when `sums_match`.' })
  net!: number;
}

export class PayoutTransactionsDto {
  @ApiProperty({ type: PayoutDto })
  payout!: PayoutDto;

  @ApiProperty({ type: [PayoutTransactionDto] })
  data!: PayoutTransactionDto[];

  @ApiProperty({ type: PayoutTotalsDto })
  totals!: PayoutTotalsDto;

  @ApiProperty({
    example: true,
    description: 'The settled transactions add up to the payout amount, to the minor unit.',
  })
  sums_match!: boolean;

  static from(
    row: PayoutRow,
    txns: StripeBalanceTransaction[],
    sums: PayoutSums,
    join: (
      t: StripeBalanceTransaction,
    ) => Pick<PayoutTransactionDto, 'payment_id' | 'refund_id' | 'transfer_id' | 'dispute_id'>,
  ): PayoutTransactionsDto {
    return {
      payout: PayoutDto.from(row),
      data: txns.map((t) => {
        const source = typeof t.source === 'string' ? t.source : (t.source?.id ?? null);
        return {
          id: t.id,
          type: t.type,
          reporting_category: t.reporting_category,
          amount: t.amount,
          fee: t.fee,
          net: t.net,
          currency: t.currency,
          source,
          created: new Date(t.created * 1000),
          ...join(t),
        };
      }),
      totals: { gross: sums.gross, fees: sums.fees, net: sums.settled },
      sums_match: sums.sums_match,
    };
  }
}
