import { Controller, Get, Header } from '@nestjs/common';
import { collectDefaultMetrics, register } from 'prom-client';

// process metrics (CPU, memory, event loop lag) for every app that serves /metrics
collectDefaultMetrics();

/** GET /metrics in the Prometheus text format. */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('content-type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
