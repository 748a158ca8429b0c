import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiAuth, Caller, CurrentCaller } from '@app/auth';
import { ApiErrors, ErrorCode, idParam } from '@app/common';
import { Audit } from '../audit/audit.decorator';
import { DisputesService } from './disputes.service';
import {
  DisputeDto,
  DisputeListDto,
  evidenceOf,
  ListDisputesQueryDto,
  SubmitEvidenceDto,
} from './dto/dispute.dto';

@ApiTags('disputes')
@Controller('connect/disputes')
export class DisputesController {
  constructor(private readonly disputes: DisputesService) {}

  @Get()
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({
    summary: 'Disputes (newest first); `evidence_due_by[lt]` finds those due soon',
    description: 'From our own table, fed by charge.dispute.* webhooks: never depends on Stripe being up.',
  })
  @ApiOkResponse({ type: DisputeListDto })
  @ApiErrors(ErrorCode.ValidationFailed)
  async list(@CurrentCaller() caller: Caller, @Query() q: ListDisputesQueryDto): Promise<DisputeListDto> {
    return this.disputes.list(caller, q);
  }

  @Get(':id')
  @ApiAuth('viewer', 'payments:read')
  @ApiOperation({
    summary: 'One dispute: status, deadline, who is liable, recovery (another tenant’s answers 404)',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: DisputeDto })
  @ApiErrors(ErrorCode.ValidationFailed, ErrorCode.NotFound)
  async get(@CurrentCaller() caller: Caller, @Param('id', idParam) id: string): Promise<DisputeDto> {
    return DisputeDto.from(await this.disputes.get(caller, id));
  }

  @Post(':id/evidence')
  @HttpCode(200)
  @Audit('dispute.evidence', 'dispute')
  @ApiAuth('admin', 'payments:write')
  @ApiOperation({
    summary: 'Save evidence, and submit it with `submit: true`',
    description:
      'Text evidence fields as `{"evidence": {...}, "submit": bool}` or flat beside `submit` ' +
      '(https://docs.stripe.com/disputes/responding). Answers what Stripe holds. Refused (409 CONNECT_144) once ' +
      'submitted, after the deadline, or when the dispute is closed.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  // One body per form: Swagger UI's sample of the schema would merge the nested and the flat fields into one.
  @ApiBody({
    type: SubmitEvidenceDto,
    examples: {
      nested: {
        summary: 'Save evidence (nested)',
        value: {
          evidence: { customer_name: 'Jenny Rosen', product_description: 'Annual plan' },
          submit: false,
        },
      },
      flat: {
        summary: 'Save evidence (flat beside submit)',
        value: { shipping_carrier: 'UPS', shipping_tracking_number: '1Z999AA10123456784', submit: false },
      },
      submit: {
        summary: 'Submit what is saved (final)',
        value: { uncategorized_text: 'The customer received the order.', submit: true },
      },
    },
  })
  @ApiOkResponse({ type: DisputeDto })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.NotFound,
    ErrorCode.DisputeNotOpen,
    ErrorCode.StripeUnavailable,
  )
  async evidence(
    @CurrentCaller() caller: Caller,
    @Param('id', idParam) id: string,
    @Body() dto: SubmitEvidenceDto,
  ): Promise<DisputeDto> {
    return this.disputes.evidence(caller, id, evidenceOf(dto), dto.submit === true);
  }

  @Post(':id/accept')
  @HttpCode(200)
  @Audit('dispute.accept', 'dispute')
  @ApiAuth('admin', 'payments:write')
  @ApiOperation({
    summary: 'Accept the dispute (concede it): Stripe closes it as lost',
    description: 'https://docs.stripe.com/api/disputes/close',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: DisputeDto, description: 'The dispute, `lost`.' })
  @ApiErrors(ErrorCode.NotFound, ErrorCode.DisputeNotOpen, ErrorCode.StripeUnavailable)
  async accept(@CurrentCaller() caller: Caller, @Param('id', idParam) id: string): Promise<DisputeDto> {
    return this.disputes.accept(caller, id);
  }
}
