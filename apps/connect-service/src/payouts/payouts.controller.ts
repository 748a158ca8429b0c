import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode, idParam } from '@app/common';
import { Audit } from '../audit/audit.decorator';
import { IdempotencyService, requestHash } from '../payments/idempotency.service';
import {
  BalanceDto,
  CreatePayoutDto,
  ListPayoutsQueryDto,
  PayoutDto,
  PayoutListDto,
  PayoutTransactionsDto,
} from './dto/payout.dto';
import { PayoutsService } from './payouts.service';

const TENANT_PARAM = ApiParam({ name: 'tenantId', example: 'tenant_acme' });

@ApiTags('payouts')
@Controller('connect')
export class PayoutsController {
  constructor(
    private readonly payouts: PayoutsService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Get('accounts/:tenantId/balance')
  @ApiAuth('viewer', 'accounts:read')
  @ApiOperation({
    summary: "The tenant's Stripe balance per currency (available, pending, instant_available)",
    description:
      'Read from Stripe on the connected account, cached for BALANCE_CACHE_SECONDS. When Stripe cannot be reached, the ' +
      'last read is answered with `stale: true`.',
  })
  @TENANT_PARAM
  @ApiOkResponse({ type: BalanceDto })
  @ApiErrors(ErrorCode.NotFound, ErrorCode.StripeUnavailable)
  async balance(
    @CurrentCaller() caller: Caller,
    @Param('tenantId') tenantId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    // The cached answer is already the JSON of a BalanceDto: sent as it is, not parsed and serialised again.
    void reply.type('application/json; charset=utf-8');
    return this.payouts.balanceJson(caller, tenantId);
  }

  @Get('accounts/:tenantId/payouts')
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({
    summary: "The tenant's payouts (newest first), from our own table: never depends on Stripe being up",
  })
  @TENANT_PARAM
  @ApiOkResponse({ type: PayoutListDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  async list(
    @CurrentCaller() caller: Caller,
    @Param('tenantId') tenantId: string,
    @Query() q: ListPayoutsQueryDto,
  ): Promise<PayoutListDto> {
    return this.payouts.list(caller, tenantId, q);
  }

  @Post('accounts/:tenantId/payouts')
  @Audit('payout.create', 'payout')
  @ApiAuth('admin', 'payments:write')
  @ApiOperation({
    summary: 'A manual (standard) or instant payout of the tenant’s balance',
    description:
      'A standard payout needs the account’s payout schedule to be `manual`; an instant payout takes the ' +
      'instant-available balance. The balance is checked before Stripe is called: too little answers CONNECT_140 ' +
      'with `details.shortfall`. The same `Idempotency-Key` never creates a second payout at Stripe.',
  })
  @TENANT_PARAM
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'As for payments: scoped to the caller and tenant and kept 24 h, the same key with the same body answers the first ' +
      'response without calling Stripe again; with another body: CONNECT_041; while the first runs: CONNECT_042. The key ' +
      'also reaches Stripe, so even a lost answer never makes a second payout.',
  })
  @ApiCreatedResponse({ type: PayoutDto })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.NotFound,
    ErrorCode.PayoutBalanceInsufficient,
    ErrorCode.PayoutNotAllowed,
    ErrorCode.IdempotencyKeyReused,
    ErrorCode.IdempotencyInProgress,
    ErrorCode.StripeRequestFailed,
    ErrorCode.StripeUnavailable,
  )
  async create(
    @CurrentCaller() caller: Caller,
    @Param('tenantId') tenantId: string,
    @Body() dto: CreatePayoutDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    const path = `/connect/accounts/${tenantId}/payouts`;
    const res = await this.idempotency.run(
      `${caller.sub}|${tenantId}`,
      key,
      requestHash('POST', path, dto),
      async () => ({
        status: 201,
        body: await this.payouts.create(caller, tenantId, dto, key),
      }),
    );
    void reply.status(res.status);
    return res.body;
  }

  @Get('payouts/:id')
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({ summary: 'One payout (another tenant’s answers 404)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: PayoutDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  async get(@CurrentCaller() caller: Caller, @Param('id', idParam) id: string): Promise<PayoutDto> {
    return PayoutDto.from(await this.payouts.get(caller, id));
  }

  @Post('payouts/:id/cancel')
  @HttpCode(200)
  @Audit('payout.cancel', 'payout')
  @ApiAuth('admin', 'payments:write')
  @ApiOperation({
    summary: 'Cancel a payout while Stripe allows it (pending, standard)',
    description: 'The money goes back to the available balance. https://docs.stripe.com/api/payouts/cancel',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: PayoutDto, description: 'The payout, `canceled`.' })
  @ApiErrors(ErrorCode.NotFound, ErrorCode.PayoutNotCancelable, ErrorCode.StripeUnavailable)
  async cancel(@CurrentCaller() caller: Caller, @Param('id', idParam) id: string): Promise<PayoutDto> {
    return this.payouts.cancel(caller, id);
  }

  @Get('payouts/:id/transactions')
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({
    summary: 'What the payout contains: the balance transactions it settled, joined to our payments',
    description:
      'Stripe’s balance transactions of the payout, each with our payment, refund, transfer or dispute when one ' +
      'matches, and totals that equal the payout amount to the minor unit (`sums_match`). Before the payout’s ' +
      'reconciliation completes: 409 CONNECT_141.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: PayoutTransactionsDto })
  @ApiErrors(ErrorCode.NotFound, ErrorCode.PayoutNotReconciled, ErrorCode.StripeUnavailable)
  async transactions(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
  ): Promise<PayoutTransactionsDto> {
    return this.payouts.transactions(caller, id);
  }
}
