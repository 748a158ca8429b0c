import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorResult,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { Public } from '@app/auth';
import { REDIS_CLIENT } from '../redis/redis.module';
import { recordReadiness } from './health-metrics';

const READY_EXAMPLE = {
  status: 'ok',
  info: { database: { status: 'up' }, migrations: { status: 'up', pending: 0 }, redis: { status: 'up' } },
  error: {},
  details: { database: { status: 'up' }, migrations: { status: 'up', pending: 0 }, redis: { status: 'up' } },
};

/** Terminus probes for Kubernetes: liveness says the process runs, readiness that it can serve. */
@ApiTags('ops')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(REDIS_CLIENT) private readonly redis: Redis | null,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({
    summary: 'Liveness: the process is up (no dependency checks, so a slow database never restarts pods)',
  })
  @ApiOkResponse({ schema: { example: { status: 'ok', info: {}, error: {}, details: {} } } })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: database reachable, migrations applied, Redis reachable when configured',
  })
  @ApiOkResponse({ schema: { example: READY_EXAMPLE } })
  @ApiServiceUnavailableResponse({
    description: 'A dependency is down; the body names it (Terminus format).',
  })
  async ready() {
    try {
      const result = await this.health.check([
        () => this.db.pingCheck('database', { timeout: 2000 }),
        () => this.migrations(),
        ...(this.redis ? [() => this.redisPing(this.redis!)] : []),
      ]);
      recordReadiness(true);
      return result;
    } catch (err) {
      // Terminus throws its 503 when a check is down; the metrics see that as not ready, and the 503 goes out as is.
      recordReadiness(false);
      throw err;
    }
  }

  private async migrations(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('migrations');
    try {
      const pending = await this.dataSource.showMigrations();
      return pending ? check.down({ pending: true }) : check.up({ pending: 0 });
    } catch {
      return check.down({ reason: 'unreachable' });
    }
  }

  private async redisPing(client: Redis): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('redis');
    try {
      await Promise.race([
        client.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
      ]);
      return check.up();
    } catch {
      return check.down();
    }
  }
}
