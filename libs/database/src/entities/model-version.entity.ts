import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

// keys equal values: GraphQL shows the keys
export enum ModelStatus {
  TRAINING = 'TRAINING',
  READY = 'READY',
  ACTIVE = 'ACTIVE',
  /** Answers an experiment's share of users beside the ACTIVE version; complete, never swept while it runs. */
  CANARY = 'CANARY',
  FAILED = 'FAILED',
  RETIRED = 'RETIRED',
}

/** What the quality gate compared: the live model and the candidate scored on the candidate's held-out users. */
export interface GateComparison {
  liveVersion: number;
  liveNdcg100: number;
  candidateNdcg100: number;
  /** The held-out users both were scored on. */
  users: number;
}

/**
 * Measured on held-out users: users left out of training and of early stopping, whose fold-in
 * items are the input and whose other items are the targets.
 */
export interface ModelMetrics {
  ndcg100: number;
  recall20: number;
  recall50: number;
  /** The same metrics of most-popular (fitted on the training rows) on the same held-out users, for comparison. */
  popularity?: { ndcg100: number; recall20: number; recall50: number };
  /** Users the metrics were measured on (versions trained before they were held out have none). */
  heldOutUsers?: number;
  /** Users whose held-out items picked the epoch (early stopping): not the heldOutUsers. */
  validationUsers?: number;
  /** Absent for the first model, or when the live model's weights could not be read (then the stored figures were compared). */
  gate?: GateComparison;
}

/**
 * The read snapshot a training's data came from: its start (`at`) and the transactions it could not
 * see (in flight, `inFlight`, or begun after, from `xmax`), as 32-bit transaction ids like a row's xmin.
 */
export interface DataSnapshot {
  at: string;
  xmax: number;
  inFlight: number[];
  /**
   * The start of the oldest transaction open just before the read (pg_stat_activity): no transaction
   * it missed began earlier, so rows created before it need not be looked at. Absent in snapshots
   * recorded before it was.
   */
  openSince?: string;
}

export interface EpochPoint {
  epoch: number;
  loss: number;
  ndcg: number | null;
  seconds: number;
}

@Entity('model_versions')
export class ModelVersionEntity {
  @PrimaryGeneratedColumn('identity', { type: 'integer' })
  version!: number;

  @Column({ type: 'text' })
  status!: ModelStatus;

  /** The BullMQ job that trains it: a retried job finds its version again. */
  @Column({ name: 'job_id', type: 'text', nullable: true })
  jobId!: string | null;

  @Column({ type: 'jsonb' })
  config!: Record<string, unknown>;

  /** Newest interaction time the training data held. */
  @Column({ name: 'data_watermark', type: 'timestamptz', nullable: true })
  dataWatermark!: Date | null;

  /** The snapshot the training read its data in; null for versions trained before it was recorded. */
  @Column({ name: 'data_snapshot', type: 'jsonb', nullable: true })
  dataSnapshot!: DataSnapshot | null;

  @Column({ type: 'integer', default: 0 })
  users!: number;

  @Column({ type: 'integer', default: 0 })
  items!: number;

  @Column({ type: 'bigint', default: 0 })
  interactions!: string;

  @Column({ type: 'jsonb', nullable: true })
  metrics!: ModelMetrics | null;

  @Column({ name: 'loss_curve', type: 'jsonb', default: () => `'[]'::jsonb` })
  lossCurve!: EpochPoint[];

  /** Seconds per phase: load, train, publish, promote. */
  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  timings!: Record<string, number>;

  @Column({ type: 'text', nullable: true })
  backend!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'trained_at', type: 'timestamptz', nullable: true })
  trainedAt!: Date | null;

  @Column({ name: 'activated_at', type: 'timestamptz', nullable: true })
  activatedAt!: Date | null;
}
