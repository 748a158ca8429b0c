import { ApiProperty } from '@nestjs/swagger';

/** What Stripe gets once the event is durably stored (or known already). */
export class WebhookReceiptDto {
  @ApiProperty({ example: true })
  received!: true;

  @ApiProperty({
    example: false,
    description: 'True when this event id was already in the inbox (nothing was enqueued).',
  })
  duplicate!: boolean;
}
