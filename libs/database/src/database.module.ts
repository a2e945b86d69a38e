import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EnvVars } from '@app/config';
import { dataSourceOptions } from './data-source';
import { ApiKeyRepository } from './repositories/api-key.repository';
import { AnomalyRepository } from './repositories/anomaly.repository';
import { ExperimentRepository } from './repositories/experiment.repository';
import { ErasureRepository } from './repositories/erasure.repository';
import { ImpressionRepository } from './repositories/impression.repository';
import { FeedbackTypeRepository } from './repositories/feedback-type.repository';
import { CatalogueRepository } from './repositories/catalogue.repository';
import { InteractionRepository } from './repositories/interaction.repository';
import { ItemRepository } from './repositories/item.repository';
import { OnlineMetricsRepository } from './repositories/online-metrics.repository';
import { ModelIndexRepository } from './repositories/model-index.repository';
import { ModelVersionRepository } from './repositories/model-version.repository';
import { OwedStaleFlagRepository } from './repositories/owed-stale-flag.repository';
import { StatsRepository } from './repositories/stats.repository';
import { TrainingDataRepository } from './repositories/training-data.repository';
import { TrainingLockRepository } from './repositories/training-lock.repository';
import { UserRepository } from './repositories/user.repository';

const REPOSITORIES = [
  AnomalyRepository,
  ApiKeyRepository,
  CatalogueRepository,
  ErasureRepository,
  ExperimentRepository,
  FeedbackTypeRepository,
  ImpressionRepository,
  InteractionRepository,
  ItemRepository,
  ModelIndexRepository,
  ModelVersionRepository,
  OnlineMetricsRepository,
  OwedStaleFlagRepository,
  StatsRepository,
  TrainingDataRepository,
  TrainingLockRepository,
  UserRepository,
];

/**
 * An app that provides this token (globally) bounds each of its statements to that many ms; the
 * API does, the worker does not (training reads whole tables).
 */
export const STATEMENT_TIMEOUT_MS = Symbol('STATEMENT_TIMEOUT_MS');

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [EnvVars, { token: STATEMENT_TIMEOUT_MS, optional: true }],
      useFactory: (env: EnvVars, statementTimeoutMs?: number) =>
        dataSourceOptions(env.DATABASE_URL, { statementTimeoutMs }),
    }),
  ],
  providers: REPOSITORIES,
  exports: REPOSITORIES,
})
export class DatabaseModule {}
