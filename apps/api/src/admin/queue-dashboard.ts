import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { EnvVars } from '@app/config';
import { QueueName } from '@app/queue';
import { checkAdminKey } from '../auth/admin-key';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** Bull Board, the queue dashboard NestJS users know, behind the admin key. */
export function mountQueueDashboard(app: NestFastifyApplication): void {
  const env = app.get(EnvVars);
  const board = new FastifyAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: [QueueName.Training, QueueName.Export, QueueName.Popularity].map((name) => new BullMQAdapter(app.get<Queue>(getQueueToken(name)), { readOnlyMode: false })),
    serverAdapter: board,
  });
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  // not awaited: awaiting register() boots Fastify's root early, and Nest registers more plugins after this
  void fastify.register(async (scope) => {
    // this hook covers the dashboard's routes only (its own plugin scope)
    scope.addHook('onRequest', async (request, reply) => {
      const check = checkAdminKey(request.headers.authorization, env.ADMIN_API_KEY);
      if (!check.ok) return reply.code(401).header('www-authenticate', 'Bearer').send({ statusCode: 401, message: check.reason });
    });
    await scope.register(board.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });
}
