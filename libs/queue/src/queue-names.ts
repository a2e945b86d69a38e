import type { ExportFormat } from '@app/export';

/** Queue and job names live here so the producer (api) and the consumer (jobs) cannot drift. */
export enum QueueName {
  Training = 'training',
  Export = 'export',
  Popularity = 'popularity',
}

export enum JobName {
  TrainModel = 'train-model',
  /** The schedule's tick (TRAIN_CRON): enqueues a TrainModel job through the same deduplication as a manual retrain. */
  ScheduledRetrain = 'scheduled-retrain',
  ExportEmbeddings = 'export-embeddings',
  RecountPopularity = 'recount-popularity',
}

/** Redis key prefix of every BullMQ key, so recoder's queues are easy to find and never collide (hash-tagged for a cluster). */
export { queuePrefix } from '@app/embedding-store/embedding-keys';

/** While one training is queued or running, asking again returns it (BullMQ deduplication id). */
export const TRAINING_DEDUPLICATION_ID = 'train';

/** What a retrain may override; everything else comes from the environment's defaults. */
export interface TrainingConfig {
  epochs?: number;
  embeddingDim?: number;
  hidden?: number[];
  dropout?: number;
  learningRate?: number;
  weightDecay?: number;
  batchSize?: number;
  patience?: number;
  seed?: number;
  loss?: 'multinomial' | 'logistic';
  activation?: 'tanh' | 'relu' | 'sigmoid' | 'linear';
  /** binary: every POSITIVE event counts 1; weighted: its type's weight times its own, aged (default TRAIN_INPUT). */
  input?: 'binary' | 'weighted';
  /** Choose the settings the request leaves open on validation users within this many seconds. */
  tune?: { budgetSeconds: number };
  /** false: serve the autoencoder alone, without the linear item term (default: the term when it validates better). */
  itemTerm?: boolean;
  /** Start the version as an experiment's CANARY answering this share of the users, instead of switching everyone. */
  canary?: number;
  /**
   * A deliberately worse control for experiments: each user's items are moved by an offset of
   * their own through the catalogue, so every user keeps their count but none of their taste.
   */
  shuffleItems?: boolean;
}

export interface JobPayloads {
  [JobName.TrainModel]: { config: TrainingConfig; force: boolean; requestedAt: string };
  [JobName.ScheduledRetrain]: JobPayloads[JobName.TrainModel];
  [JobName.ExportEmbeddings]: { kind: 'user' | 'item'; format: ExportFormat; version: number };
  [JobName.RecountPopularity]: { requestedAt: string };
}

/** Concurrent exports of the same vectors in the same format are one job. */
export const exportDeduplicationId = (p: JobPayloads[JobName.ExportEmbeddings]): string =>
  `export:${p.kind}:${p.version}:${p.format}`;

export interface ExportProgress {
  done: number;
  total: number;
  percent: number;
}

/** What a training job reports through job.updateProgress. */
export interface TrainingProgress {
  phase: 'load' | 'tune' | 'train' | 'evaluate' | 'index' | 'publish' | 'promote' | 'done';
  percent: number;
  epoch?: number;
  epochs?: number;
  loss?: number;
  ndcg?: number | null;
  version?: number;
}
