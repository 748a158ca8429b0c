import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode, idParam } from '@app/common';
import {
  CreatePaymentDto,
  CreateRefundDto,
  CreateSubscriptionDto,
  ListPaymentsQueryDto,
  PaymentRouteDto,
  PaymentRouteListDto,
} from './dto/payment.dto';
import {
  CREATE_PAYMENT_EXAMPLES,
  CREATE_REFUND_EXAMPLES,
  CREATE_SUBSCRIPTION_EXAMPLES,
} from './dto/payment-examples';
import { IdempotencyService, requestHash, StoredResponse } from './idempotency.service';
import { PaymentsService } from './payments.service';
import { RefundsService } from './refunds.service';
import { responseOf } from './route-records.service';
import { SubscriptionsService } from './subscriptions.service';
import { Audit } from '../audit/audit.decorator';

const IDEMPOTENCY_HEADER = ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description:
    'Up to 255 characters, scoped to the caller and tenant and kept 24 h: the same key with the same body answers the ' +
    'first response (status and body) without calling Stripe again; with another body: CONNECT_041; while the first ' +
    'is still running: the duplicate waits, then CONNECT_042.',
});

@ApiTags('payments')
@Controller('connect')
export class PaymentsController {
  constructor(
    private readonly payments: PaymentsService,
    private readonly refunds: RefundsService,
    private readonly subscriptions: SubscriptionsService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post('payments')
  @Audit('payment.create', 'payment_route')
  @ApiAuth('operator', 'payments:write')
  @ApiOperation({
    summary: 'Route a payment to a tenant with the platform fee',
    description:
      '201: the PaymentIntent exists (completion arrives by webhook). 202: Stripe did not answer in time; the route ' +
      'stays `pending` and is resolved from Stripe with the same idempotency key (never a second PaymentIntent).',
  })
  @IDEMPOTENCY_HEADER
  @ApiBody({ type: CreatePaymentDto, examples: CREATE_PAYMENT_EXAMPLES })
  @ApiCreatedResponse({ type: PaymentRouteDto })
  @ApiAcceptedResponse({ type: PaymentRouteDto, description: 'Outcome unknown yet: `status` is `pending`.' })
  @ApiErrors(
    ErrorCode.AccountInvalid,
    ErrorCode.RoutingFailed,
    ErrorCode.ValidationFailed,
    ErrorCode.IdempotencyKeyReused,
    ErrorCode.IdempotencyInProgress,
    ErrorCode.CardDeclined,
    ErrorCode.StripeUnavailable,
  )
  async create(
    @CurrentCaller() caller: Caller,
    @Body() dto: CreatePaymentDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    // The payment claims the key in its route's INSERT and stores its answer with the PaymentIntent it records.
    const res = await this.idempotency.runClaiming(
      `${caller.sub}|${dto.tenant_id}`,
      key,
      requestHash('POST', '/connect/payments', dto),
      async (claim) => responseOf(await this.payments.create(dto, claim)),
    );
    void reply.status(res.status);
    return res.body;
  }

  @Get('payments')
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({ summary: 'List payment routes (newest first, keyset pagination)' })
  @ApiOkResponse({ type: PaymentRouteListDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  async list(
    @CurrentCaller() caller: Caller,
    @Query() q: ListPaymentsQueryDto,
  ): Promise<PaymentRouteListDto> {
    return this.payments.list(caller, q);
  }

  @Get('payments/:id')
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({ summary: 'One payment route (another tenant’s answers 404)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: PaymentRouteDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  async get(@CurrentCaller() caller: Caller, @Param('id', idParam) id: string): Promise<PaymentRouteDto> {
    return PaymentRouteDto.from(await this.payments.get(caller, id));
  }

  @Post('payments/:id/refunds')
  @Audit('payment.refund', 'payment_route')
  @ApiAuth('operator', 'payments:write')
  @ApiOperation({
    summary: 'Refund a payment, fully or partly',
    description:
      'Defaults: direct charges refund the application fee, destination charges reverse the transfer. Refunds add up ' +
      'and never exceed the amount paid.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @IDEMPOTENCY_HEADER
  @ApiBody({ type: CreateRefundDto, examples: CREATE_REFUND_EXAMPLES })
  @ApiCreatedResponse({ type: PaymentRouteDto })
  @ApiAcceptedResponse({ type: PaymentRouteDto, description: 'Outcome unknown yet: `status` is `pending`.' })
  @ApiErrors(
    ErrorCode.RoutingFailed,
    ErrorCode.ValidationFailed,
    ErrorCode.NotFound,
    ErrorCode.Conflict,
    ErrorCode.IdempotencyKeyReused,
    ErrorCode.IdempotencyInProgress,
    ErrorCode.StripeUnavailable,
  )
  async refund(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
    @Body() dto: CreateRefundDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    return this.idempotent(
      reply,
      `${caller.sub}|${caller.tenantId ?? '*'}`,
      key,
      `/connect/payments/${id}/refunds`,
      dto,
      async () => responseOf(await this.refunds.refund(caller, id, dto)),
    );
  }

  @Post('subscriptions')
  @ApiAuth('operator', 'payments:write')
  @ApiOperation({
    summary: "Create a subscription on the tenant's connected account with the platform's fee percent",
  })
  @IDEMPOTENCY_HEADER
  @ApiBody({ type: CreateSubscriptionDto, examples: CREATE_SUBSCRIPTION_EXAMPLES })
  @ApiCreatedResponse({ type: PaymentRouteDto })
  @ApiErrors(
    ErrorCode.AccountInvalid,
    ErrorCode.RoutingFailed,
    ErrorCode.ValidationFailed,
    ErrorCode.IdempotencyKeyReused,
    ErrorCode.IdempotencyInProgress,
    ErrorCode.StripeUnavailable,
  )
  async createSubscription(
    @CurrentCaller() caller: Caller,
    @Body() dto: CreateSubscriptionDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    return this.idempotent(reply, `${caller.sub}|${dto.tenant_id}`, key, '/connect/subscriptions', dto, () =>
      this.subscriptions.create(dto),
    );
  }

  @Delete('subscriptions/:id')
  @HttpCode(200)
  @ApiAuth('operator', 'payments:write')
  @ApiOperation({ summary: 'Cancel a subscription (its PaymentRoute id or `sub_` id)' })
  @ApiParam({ name: 'id', description: 'The PaymentRoute id or the `sub_` id' })
  @ApiOkResponse({ type: PaymentRouteDto })
  @ApiErrors(ErrorCode.NotFound, ErrorCode.StripeUnavailable, ErrorCode.StripeRequestFailed)
  async cancelSubscription(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
  ): Promise<PaymentRouteDto> {
    return this.subscriptions.cancel(caller, id);
  }

  /**
   * Runs a POST under the caller's Idempotency-Key (scoped to caller and tenant) and answers with the status and body
   * of the first run when the key was seen before.
   */
  private async idempotent(
    reply: FastifyReply,
    scope: string,
    key: string | undefined,
    path: string,
    dto: object,
    run: () => Promise<StoredResponse>,
  ): Promise<unknown> {
    const res = await this.idempotency.run(scope, key, requestHash('POST', path, dto), run);
    void reply.status(res.status);
    return res.body;
  }
}
