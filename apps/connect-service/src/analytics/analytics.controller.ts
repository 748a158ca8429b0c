import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode, EXAMPLE_DATES } from '@app/common';
import { AnalyticsQueryDto, AnalyticsResultDto } from './dto/analytics-query.dto';
import { AnalyticsService } from './analytics.service';

const wantsCsv = (accept: string | undefined): boolean => /\btext\/csv\b/i.test(accept ?? '');

@ApiTags('analytics')
@ApiExtraModels(AnalyticsResultDto)
@Controller('connect/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Post('query')
  @HttpCode(200)
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({
    summary: 'Payment analytics: buckets and totals of metrics over a time range',
    description:
      'Answers from hourly and daily rollups that every payment route change updates in its own transaction. ' +
      '`time_range` is [from, to) on UTC hours; `1d` buckets are UTC days (clipped to the range). A payment counts in ' +
      'the bucket of its creation, a refund or dispute in the bucket of its own creation. Amount metrics need ' +
      '`currency` in `group_by` or a single-currency filter. A tenant caller sees only its own tenant; `platform` ' +
      'sees all. The `text/csv` response media type (`Accept: text/csv`) answers RFC 4180 CSV (a header row, one ' +
      'row per bucket: start, end, the `group_by` columns, then the metrics).',
  })
  @ApiBody({
    type: AnalyticsQueryDto,
    examples: {
      fees_by_day: {
        summary: 'Fees by day this year',
        value: {
          time_range: { from: EXAMPLE_DATES.yearStart, to: EXAMPLE_DATES.nextYearStart },
          granularity: '1d',
          group_by: ['currency'],
          metrics: ['fees_collected', 'fees_refunded', 'net_platform_revenue'],
        },
      },
      success_rate_by_tenant: {
        summary: 'Success rate by tenant today',
        value: {
          time_range: { from: EXAMPLE_DATES.today, to: EXAMPLE_DATES.tomorrow },
          granularity: 'total',
          group_by: ['tenant_id'],
          metrics: ['payments_attempted', 'payments_succeeded', 'payments_failed', 'success_rate'],
        },
      },
      volume_by_routing_rule: {
        summary: 'Hourly volume and declines per routing rule, one currency',
        value: {
          time_range: { from: EXAMPLE_DATES.today, to: EXAMPLE_DATES.tomorrow },
          granularity: '1h',
          group_by: ['routing_rule'],
          filters: { currency: ['eur'] },
          metrics: ['gross_volume', 'payments_declined', 'success_rate'],
        },
      },
    },
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    description: 'Buckets (by start, then group) and one total per group.',
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(AnalyticsResultDto) },
        example: {
          buckets: [
            {
              start: '2026-11-01T00:00:00.000Z',
              end: '2026-11-02T00:00:00.000Z',
              group: { currency: 'usd' },
              metrics: { fees_collected: 12_840, fees_refunded: 340, net_platform_revenue: 12_500 },
            },
          ],
          totals: [
            {
              group: { currency: 'usd' },
              metrics: { fees_collected: 385_200, fees_refunded: 13_260, net_platform_revenue: 371_940 },
            },
          ],
        },
      },
      'text/csv': {
        schema: { type: 'string' },
        example:
          'start,end,currency,fees_collected,fees_refunded,net_platform_revenue\r\n' +
          '2026-11-01T00:00:00.000Z,2026-11-02T00:00:00.000Z,usd,12840,340,12500\r\n',
      },
    },
  })
  @ApiErrors(ErrorCode.ValidationFailed)
  async query(
    @CurrentCaller() caller: Caller,
    @Body() dto: AnalyticsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AnalyticsResultDto | string> {
    const result = await this.analytics.answer(caller, dto);
    if (!wantsCsv(accept)) return result;
    void reply
      .header('content-type', 'text/csv; charset=utf-8; header=present')
      .header('content-disposition', 'attachment; filename="analytics.csv"');
    return this.analytics.toCsv(dto, result);
  }
}
