import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { affected, sql } from '@app/database';

/** api_keys writes beyond TypeORM's. */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** `last_used_at` now, unless another replica wrote it within the last minute. */
  async touch(publicId: string): Promise<void> {
    await affected(
      this.dataSource,
      sql`UPDATE api_keys SET last_used_at = now()
           WHERE public_id = ${publicId} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    );
  }
}
