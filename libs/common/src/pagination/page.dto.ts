import { Type as ClassType } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** `limit` and `cursor`, the query of every list endpoint; list query DTOs extend it. */
export class PageQueryDto {
  @ApiPropertyOptional({ example: 20, minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  // No example: Swagger UI would send it, and a cursor is only valid from the list that returned it.
  @ApiPropertyOptional({ description: 'Opaque: the `next_cursor` of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

/**
 * The body of every list answer, `{data, has_more, next_cursor}`, typed for Swagger:
 * `export class PaymentRouteListDto extends PageDto(PaymentRouteDto) {}`.
 */
export function PageDto<T>(item: ClassType<T>) {
  class Page {
    @ApiProperty({ type: [item] })
    data!: T[];

    @ApiProperty({ example: false })
    has_more!: boolean;

    @ApiProperty({
      example: null,
      nullable: true,
      type: String,
      description: 'Pass as `cursor` for the next page.',
    })
    next_cursor!: string | null;
  }
  return Page;
}
