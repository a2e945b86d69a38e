import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ADVISORY_LOCK } from './advisory-locks';

const TRAINING_LOCK_KEY = ADVISORY_LOCK.training;

/**
 * One training at a time across every worker: a Postgres session advisory lock, held on a connection
 * of its own for as long as the training runs. A worker that is killed loses its connection and so
 * the lock, which a queue lock that merely expires (a CPU-bound worker may miss its renewals) cannot
 * promise.
 */
@Injectable()
export class TrainingLockRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The release function, or null when another worker holds the lock. */
  async tryAcquire(): Promise<(() => Promise<void>) | null> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [TRAINING_LOCK_KEY])) as {
        locked: boolean;
      }[];
      if (!locked) {
        await runner.release();
        return null;
      }
    } catch (err) {
      await runner.release();
      throw err;
    }
    return async () => {
      await runner.query('SELECT pg_advisory_unlock($1)', [TRAINING_LOCK_KEY]).catch(() => undefined);
      await runner.release();
    };
  }
}
