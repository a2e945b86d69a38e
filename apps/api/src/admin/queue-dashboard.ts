import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import { QueueName } from '@app/queue';
import { BrowserAccess } from '../auth/browser-access';
import { ApiError, ApiErrorCode } from '../errors/api-error';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
/** The page's scripts, styles and images: no data, so they load without a key. */
const ASSETS_PATH = `${QUEUE_DASHBOARD_PATH}/static/`;

/** Bull Board, the queue dashboard NestJS users know, behind an admin key in the header or a session cookie (POST /auth/session). */
export function mountQueueDashboard(app: NestFastifyApplication): void {
  const access = app.get(BrowserAccess);
  const board = new FastifyAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: [QueueName.Training, QueueName.Export, QueueName.Popularity].map(
      (name) => new BullMQAdapter(app.get<Queue>(getQueueToken(name)), { readOnlyMode: false }),
    ),
    serverAdapter: board,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // not awaited: awaiting register() boots Fastify's root early, and Nest registers more plugins after this
  void fastify.register(async (scope) => {
    // this hook covers the dashboard's routes only (its own plugin scope)
    scope.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith(ASSETS_PATH)) return;
      try {
        access.require(request, 'admin', 'Bull Board');
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        const status = err.code === ApiErrorCode.Forbidden ? 403 : 401;
        return reply
          .code(status)
          .header('www-authenticate', 'Bearer')
          .send({ statusCode: status, code: err.code, message: err.message });
      }
    });
    await scope.register(board.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });
}
