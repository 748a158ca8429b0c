import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode, idParam } from '@app/common';
import { Audit } from '../audit/audit.decorator';
import {
  CreateRuleSetDto,
  EXAMPLE_DEFAULT,
  EXAMPLE_RULES,
  ListRuleSetsQueryDto,
  ReplayDto,
  ReplayResultDto,
  RuleSetDto,
  RuleSetListDto,
  SimulateDto,
  SimulationDto,
  ValidationResultDto,
} from './dto/rule-set.dto';
import { RoutingService } from './routing.service';

const ID = ApiParam({
  name: 'id',
  format: 'uuid',
  description: 'From `POST` or `GET /connect/routing/rule-sets`',
});

/** Routing rule sets: platform callers only, so no tenant can lower the platform's fee. */
@ApiTags('routing')
@Controller('connect/routing')
export class RoutingController {
  constructor(private readonly routing: RoutingService) {}

  @Post('rule-sets')
  @Audit('routing.rule_set.create', 'routing_rule_set')
  @ApiAuth('platform', 'payments:write')
  @ApiOperation({
    summary: 'Create a draft rule set (validate, simulate and replay it before activating it)',
    description: 'Rule sets are immutable: a change is a new draft with the next version.',
  })
  @ApiBody({
    type: CreateRuleSetDto,
    examples: {
      checkout: {
        summary: 'Four rules: large tickets, gold tenants, EUR, small USD (direct, else destination)',
        value: {
          name: 'checkout-2026-12',
          rules: EXAMPLE_RULES,
          default: EXAMPLE_DEFAULT,
        },
      },
      marketplace: {
        summary: 'A cart split across three tenants, risk block, 10 % of volume on a new fee',
        value: {
          name: 'marketplace-2026-12',
          rules: [
            {
              name: 'block-high-risk-country',
              when: { field: 'card.country', op: 'in', value: ['KP', 'IR'] },
              route: { block: { reason: 'card country not served' } },
            },
            {
              name: 'cart-split',
              when: { field: 'metadata.cart', op: 'eq', value: 'multi' },
              route: {
                charge_type: 'separate',
                fee: { basis_points: 500 },
                split: [
                  { tenant_id: 'tenant_books', share_bps: 5000 },
                  { tenant_id: 'tenant_music', share_bps: 3000 },
                  { tenant_id: 'tenant_games', share_bps: 2000 },
                ],
              },
            },
            {
              name: 'fee-experiment',
              when: { not: { field: 'tenant.tier', op: 'eq', value: 'gold' } },
              route: { charge_type: 'direct' },
              split_volume: [
                { weight: 90, route: { charge_type: 'direct' } },
                { weight: 10, route: { charge_type: 'direct', fee: { basis_points: 250 } } },
              ],
            },
          ],
          default: { charge_type: 'direct' },
        },
      },
    },
  })
  @ApiCreatedResponse({ type: RuleSetDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  create(@CurrentCaller() caller: Caller, @Body() dto: CreateRuleSetDto): Promise<RuleSetDto> {
    return this.routing.create(caller, dto);
  }

  @Get('rule-sets')
  @ApiAuth('platform', 'payments:read')
  @ApiOperation({ summary: 'List rule sets (newest first, keyset pagination)' })
  @ApiOkResponse({ type: RuleSetListDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  list(@Query() q: ListRuleSetsQueryDto): Promise<RuleSetListDto> {
    return this.routing.list(q);
  }

  @Get('rule-sets/:id')
  @ApiAuth('platform', 'payments:read')
  @ApiOperation({ summary: 'One rule set' })
  @ID
  @ApiOkResponse({ type: RuleSetDto })
  @ApiErrors(ErrorCode.NotFound)
  async get(@Param('id', idParam) id: string): Promise<RuleSetDto> {
    return RuleSetDto.from(await this.routing.get(id));
  }

  @Post('rule-sets/:id/validate')
  @HttpCode(200)
  @ApiAuth('platform', 'payments:read')
  @ApiOperation({
    summary:
      'Static checks: default route, unreachable rules, unknown fields, split shares, referenced tenants',
  })
  @ID
  @ApiOkResponse({ type: ValidationResultDto })
  @ApiErrors(ErrorCode.NotFound)
  validate(@Param('id', idParam) id: string): Promise<ValidationResultDto> {
    return this.routing.validate(id);
  }

  @Post('rule-sets/:id/simulate')
  @HttpCode(200)
  @ApiAuth('platform', 'payments:read')
  @ApiOperation({
    summary:
      'Evaluate one payment under the rule set: rule, route, fee and the decision trace (never calls Stripe)',
  })
  @ID
  @ApiOkResponse({ type: SimulationDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  simulate(@Param('id', idParam) id: string, @Body() dto: SimulateDto): Promise<SimulationDto> {
    return this.routing.simulate(id, dto);
  }

  @Post('rule-sets/:id/replay')
  @HttpCode(200)
  @ApiAuth('platform', 'payments:read')
  @ApiOperation({
    summary:
      'Evaluate the stored payments of [from, to) under the rule set: how many change, by rule, fee delta',
    description: 'Never calls Stripe.',
  })
  @ID
  @ApiOkResponse({ type: ReplayResultDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  replay(@Param('id', idParam) id: string, @Body() dto: ReplayDto): Promise<ReplayResultDto> {
    return this.routing.replay(id, dto);
  }

  @Post('rule-sets/:id/activate')
  @HttpCode(200)
  @ApiAuth('platform', 'payments:write')
  @ApiOperation({
    summary: 'Make the rule set the active one (atomic, audit-logged, emits connect.routing.activated)',
    description:
      'Refused with CONNECT_010 and the problems when it does not validate. Payments in flight keep the version they started with.',
  })
  @ID
  @ApiOkResponse({ type: RuleSetDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  activate(@Param('id', idParam) id: string): Promise<RuleSetDto> {
    return this.routing.activate(id);
  }

  @Post('rollback')
  @HttpCode(200)
  @ApiAuth('platform', 'payments:write')
  @ApiOperation({ summary: 'Retire the active rule set and activate the one it replaced' })
  @ApiOkResponse({ type: RuleSetDto, description: 'The rule set active again.' })
  @ApiErrors(ErrorCode.NotFound, ErrorCode.Conflict)
  rollback(): Promise<RuleSetDto> {
    return this.routing.rollback();
  }

  @Get('active')
  @ApiAuth('platform', 'payments:read')
  @ApiOperation({ summary: 'The active rule set' })
  @ApiOkResponse({ type: RuleSetDto })
  @ApiErrors(ErrorCode.NotFound)
  async active(): Promise<RuleSetDto> {
    return RuleSetDto.from(await this.routing.activeRuleSet());
  }
}
