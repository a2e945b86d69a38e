import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { redisOptions } from '@app/redis';
import { QueueErrorLog } from './queue-errors';
import { QUEUE_PREFIX, QueueName } from './queue-names';

@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [EnvVars],
      useFactory: (env: EnvVars) => ({
        // workers block on Redis: BullMQ needs unlimited retries and an offline queue on its connection
        connection: { ...redisOptions(env.REDIS_URL), maxRetriesPerRequest: null, enableOfflineQueue: true },
        prefix: QUEUE_PREFIX,
        defaultJobOptions: {
          attempts: 3,
          backoff: { type: 'exponential', delay: 5000 },
          removeOnComplete: 1000,
          removeOnFail: false,
        },
      }),
    }),
    BullModule.registerQueue({ name: QueueName.Training }, { name: QueueName.Export }, { name: QueueName.Popularity }),
  ],
  providers: [QueueErrorLog],
  exports: [BullModule],
})
export class QueueModule {}
