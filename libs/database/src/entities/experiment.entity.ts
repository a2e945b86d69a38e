import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

// keys equal values: GraphQL shows the keys
export enum ExperimentOutcome {
  PROMOTED = 'PROMOTED',
  ABORTED = 'ABORTED',
}

/** A CANARY version answering a share of users beside the ACTIVE one; running while `endedAt` is null. */
@Entity('experiments')
export class ExperimentEntity {
  @PrimaryGeneratedColumn('identity', { type: 'integer' })
  id!: number;

  /** The version that was ACTIVE when the experiment started. */
  @Column({ name: 'control_version', type: 'integer' })
  controlVersion!: number;

  @Column({ name: 'canary_version', type: 'integer' })
  canaryVersion!: number;

  /** The canary's share of users, in (0, 1). */
  @Column({ type: 'float8' })
  traffic!: number;

  /** Mixed into each user's hash, so successive experiments draw their arms afresh. */
  @Column({ type: 'text' })
  salt!: string;

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt!: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  outcome!: ExperimentOutcome | null;

  @Column({ name: 'ended_reason', type: 'text', nullable: true })
  endedReason!: string | null;
}
