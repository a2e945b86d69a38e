import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { LiveModelService } from './live-model.service';

/**
 * GET /health/ready: 200 once this instance answers from the active model (or there is none yet),
 * 503 while it is still loading it. A load balancer that waits for it never sends product code a
 * popularity answer from a replica that has just started. /health says whether the stores answer.
 */
@Controller('health')
export class ReadinessController {
  constructor(private readonly live: LiveModelService) {}

  @Get('ready')
  ready(): { status: 'ready'; modelVersion: number | null } {
    if (!this.live.ready())
      throw new ServiceUnavailableException({ status: 'loading', message: 'loading the active model' });
    return { status: 'ready', modelVersion: this.live.current()?.version ?? null };
  }
}
