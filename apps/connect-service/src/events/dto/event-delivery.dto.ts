import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { EventDeliveryAttemptEntity, EventDeliveryEntity, EventDeliveryStatus } from '@app/database';

export class EventDeliveryAttemptDto {
  @ApiProperty({ example: 1 })
  attempt_no!: number;

  @ApiProperty({
    example: 500,
    nullable: true,
    type: Number,
    description: 'null when no HTTP answer arrived.',
  })
  status_code!: number | null;

  @ApiProperty({ example: 84 })
  duration_ms!: number;

  @ApiProperty({ example: 'HTTP 500', nullable: true, type: String })
  error!: string | null;

  @ApiProperty({
    example: 'internal error',
    nullable: true,
    type: String,
    description: "The first 1 KB of the receiver's answer.",
  })
  response_body!: string | null;

  @ApiProperty({ example: '2026-11-26T04:15:28.001Z', format: 'date-time' })
  created_at!: string;

  static from(a: EventDeliveryAttemptEntity): EventDeliveryAttemptDto {
    return {
      attempt_no: a.attempt_no,
      status_code: a.status_code,
      duration_ms: a.duration_ms,
      error: a.error,
      response_body: a.response_body,
      created_at: a.created_at.toISOString(),
    };
  }
}

export class EventDeliveryDto {
  @ApiProperty({ example: '9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a', format: 'uuid' })
  id!: string;

  @ApiProperty({ example: '0b9f3c1e-6a2d-4f5e-8b7c-1d2e3f4a5b6c', format: 'uuid' })
  event_id!: string;

  @ApiProperty({ example: '6c2f7a1e-3b4d-4e5f-9a8b-7c6d5e4f3a2b', format: 'uuid' })
  subscription_id!: string;

  @ApiProperty({ enum: EventDeliveryStatus, example: EventDeliveryStatus.Succeeded })
  status!: EventDeliveryStatus;

  @ApiProperty({ example: 3, description: 'Attempts made so far (all rounds, redeliveries included).' })
  attempts!: number;

  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' })
  next_attempt_at!: string | null;

  @ApiProperty({ example: 200, nullable: true, type: Number })
  last_status_code!: number | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  last_error!: string | null;

  @ApiProperty({ example: '2026-11-26T04:15:35.002Z', nullable: true, type: String, format: 'date-time' })
  delivered_at!: string | null;

  @ApiProperty({ example: '2026-11-26T04:15:27.200Z', format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: [EventDeliveryAttemptDto], description: 'Every attempt, oldest first.' })
  attempt_log!: EventDeliveryAttemptDto[];

  static from(d: EventDeliveryEntity, log: EventDeliveryAttemptEntity[]): EventDeliveryDto {
    return {
      id: d.id,
      event_id: d.event_id,
      subscription_id: d.subscription_id,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: d.next_attempt_at ? d.next_attempt_at.toISOString() : null,
      last_status_code: d.last_status_code,
      last_error: d.last_error,
      delivered_at: d.delivered_at ? d.delivered_at.toISOString() : null,
      created_at: d.created_at.toISOString(),
      attempt_log: log.map((a) => EventDeliveryAttemptDto.from(a)),
    };
  }
}

export class EventDeliveryListDto {
  @ApiProperty({ type: [EventDeliveryDto] })
  data!: EventDeliveryDto[];
}

export class RedeliverEventDto {
  @ApiPropertyOptional({
    example: '6c2f7a1e-3b4d-4e5f-9a8b-7c6d5e4f3a2b',
    format: 'uuid',
    description: 'Only this subscription; omitted: every active subscription the event matches.',
  })
  @IsOptional()
  @IsUUID()
  subscription_id?: string;
}
