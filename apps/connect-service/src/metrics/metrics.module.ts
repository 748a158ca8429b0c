import { Controller, Get, Module, OnApplicationBootstrap, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PrometheusController, PrometheusModule } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import { Public } from '@app/auth';
import { initialiseEmptySeries } from './first-scrape';

@ApiTags('ops')
@Controller()
export class MetricsController extends PrometheusController {
  @Public()
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiOkResponse({
    description: 'Metrics',
    content: {
      'text/plain': {
        example:
          'http_request_duration_seconds_bucket{le="0.005",route="/health/live",method="GET",status="200"} 3',
      },
    },
  })
  async index(@Res({ passthrough: true }) response: FastifyReply): Promise<string> {
    return super.index(response);
  }
}

/** `GET /metrics`: default process metrics plus everything registered on prom-client's default registry. */
@Module({
  imports: [
    PrometheusModule.register({
      path: '/metrics',
      controller: MetricsController,
      defaultMetrics: { enabled: true },
    }),
  ],
})
export class MetricsModule implements OnApplicationBootstrap {
  /** Every module has registered its metrics by now: give each labelled one a series for the first scrape. */
  onApplicationBootstrap(): void {
    initialiseEmptySeries();
  }
}
