import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ItemEntity } from './item.entity';
import { UserEntity } from './user.entity';

@Entity('interactions')
// the same user, item and type at the same instant is the same event: a re-imported file adds nothing
@Index('interactions_natural_key', ['userId', 'itemId', 'type', 'occurredAt'], { unique: true })
@Index('interactions_occurred_at', ['occurredAt'])
export class InteractionEntity {
  // bigint comes back from pg as a string: keep it one, ids are opaque cursors here
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id!: string;

  @Column({ name: 'user_id', type: 'integer' })
  userId!: number;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Column({ name: 'item_id', type: 'integer' })
  itemId!: number;

  @ManyToOne(() => ItemEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id' })
  item?: ItemEntity;

  /** view, click, purchase, rating... free text so products can add their own. */
  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'real', default: 1 })
  weight!: number;

  @Column({ name: 'occurred_at', type: 'timestamptz', default: () => 'now()' })
  occurredAt!: Date;

  /** Optional client id of the event, so a retried batch is not counted twice. */
  @Index('interactions_event_id', { unique: true, where: 'event_id IS NOT NULL' })
  @Column({ name: 'event_id', type: 'text', nullable: true })
  eventId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
