import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXAMPLE_DATES } from '@app/common';
import { IsISO8601, IsOptional } from 'class-validator';

export class WebhookBackfillRequestDto {
  @ApiProperty({
    example: EXAMPLE_DATES.today,
    format: 'date-time',
    description: 'Start of the window; at most 30 days ago (Stripe keeps events 30 days).',
  })
  @IsISO8601({ strict: true })
  since!: string;

  @ApiPropertyOptional({
    example: EXAMPLE_DATES.tomorrow,
    format: 'date-time',
    description: 'End of the window; default now.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}

export class WebhookBackfillResultDto {
  @ApiProperty({ example: 120, description: 'Events listed from Stripe.' })
  scanned!: number;

  @ApiProperty({ example: 7, description: 'Events that were missing and are now in the inbox, enqueued.' })
  inserted!: number;

  @ApiProperty({ example: 113, description: 'Events the inbox already had.' })
  duplicates!: number;

  @ApiProperty({
    example: 4,
    description: 'Connected accounts whose events were listed (besides the platform).',
  })
  accounts!: number;

  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: { stripe_account_id: { type: 'string' }, error: { type: 'string' } },
    },
    example: [],
    description: 'Connected accounts whose events could not be listed; the others were backfilled.',
  })
  failed_accounts!: Array<{ stripe_account_id: string; error: string }>;
}
