import { ApiProperty } from '@nestjs/swagger';

export class RequirementEntryDto {
  @ApiProperty({
    example: 'individual.verification.document',
    description: "Stripe's requirement (`description`).",
  })
  field!: string;

  @ApiProperty({ enum: ['currently_due', 'eventually_due', 'past_due'], example: 'currently_due' })
  due!: string;

  @ApiProperty({ example: '2026-12-31T00:00:00.000Z', nullable: true, type: String, format: 'date-time' })
  deadline!: string | null;

  @ApiProperty({ enum: ['stripe', 'user'], example: 'user' })
  awaiting_action_from!: string;

  @ApiProperty({ example: ['merchant.card_payments'], type: [String] })
  restricts!: string[];

  @ApiProperty({
    example: [],
    type: 'array',
    items: { type: 'object', additionalProperties: { type: 'string' } },
  })
  errors!: Array<{ code: string; description: string }>;
}

export class AccountConfigurationDto {
  @ApiProperty({ example: true })
  applied!: boolean;

  @ApiProperty({
    example: { card_payments: 'active' },
    type: 'object',
    additionalProperties: {
      type: 'string',
      enum: ['active', 'pending', 'rejected', 'restricted', 'unsupported'],
    },
  })
  capabilities!: Record<string, string>;
}
