import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, IsUrl, Length } from 'class-validator';

/** Body of `POST /connect/webhooks/destinations`. */
export class UpsertEventDestinationDto {
  @ApiProperty({
    example: 'https://connect.example.com/connect/webhooks',
    description: "Where Stripe delivers thin events: this service's `POST /connect/webhooks`.",
  })
  @IsString()
  @Length(1, 2048)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  url!: string;

  @ApiPropertyOptional({ example: 'connect-service thin events', default: 'connect-service thin events' })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  name?: string;

  @ApiPropertyOptional({
    example: ['v2.core.account.updated', 'v2.core.account[requirements].updated'],
    type: [String],
    description: 'Default: every v2 account and account link event type.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  enabled_events?: string[];
}

export class EventDestinationDto {
  @ApiProperty({ example: 'ed_61Rzb7fV6xL0' })
  id!: string;

  @ApiProperty({ example: 'connect-service thin events' })
  name!: string;

  @ApiProperty({ example: 'https://connect.example.com/connect/webhooks' })
  url!: string;

  @ApiProperty({ example: ['v2.core.account.updated'], type: [String] })
  enabled_events!: string[];

  @ApiProperty({ example: 'enabled' })
  status!: string;

  @ApiProperty({ example: true, description: 'The signing secret is stored (sealed); it is never answered.' })
  has_secret!: boolean;

  @ApiProperty({ example: '2026-11-26T04:15:27.000Z', format: 'date-time' })
  updated_at!: string;
}

export class EventDestinationListDto {
  @ApiProperty({ type: [EventDestinationDto] })
  data!: EventDestinationDto[];

  @ApiProperty({ example: false })
  has_more!: boolean;

  @ApiProperty({ example: null, nullable: true, type: String })
  next_cursor!: string | null;
}
