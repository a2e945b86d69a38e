import { Injectable } from '@nestjs/common';
import { ErasureRepository, InteractionRepository, UserRepository } from '@app/database';
import { EmbeddingStoreRepository } from '@app/embedding-store';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { ExportsService } from '../exports/exports.service';
import { FeedbackRulesService } from '../feedback/feedback-rules.service';
import { ImpressionBuffer } from '../feedback/impression-buffer';
import { InteractionPage } from '../interactions/models/interaction.model';
import { User } from './models/user.model';
import { UserErasure } from './models/user-erasure.model';
import { decodeCursor, encodeCursor } from './history-cursor';

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly interactions: InteractionRepository,
    private readonly erasures: ErasureRepository,
    private readonly store: EmbeddingStoreRepository,
    private readonly exports: ExportsService,
    private readonly feedback: FeedbackRulesService,
    private readonly impressions: ImpressionBuffer,
  ) {}

  async find(id: string): Promise<User | null> {
    const user = await this.users.findByExternalId(id);
    return user && { key: user.id, id: user.externalId, createdAt: user.createdAt };
  }

  async history(user: User, limit: number, before?: string): Promise<InteractionPage> {
    // one extra row tells whether another page exists
    const [rows, rules] = await Promise.all([
      this.interactions.historyOfUser(user.key, limit + 1, before ? decodeCursor(before) : undefined),
      this.feedback.current(),
    ]);
    const page = rows.slice(0, limit).map((row) => ({ ...row, role: rules.roleOf(row.type, row.weight) }));
    const last = page[page.length - 1];
    return { items: page, nextCursor: rows.length > limit ? encodeCursor(last) : null };
  }

  interactionCount(user: User): Promise<number> {
    return this.interactions.countOfUser(user.key);
  }

  /**
   * Erases the user everywhere recoder keeps them: Postgres (their row, interactions, impressions, anomaly
   * scores, owed flags, then an erasure-log entry in the same transaction), then their hash in
   * every version in Redis. Redis goes second, once no new fold-in can read their rows; one that
   * read them before is held off by a mark set first. Idempotent, so a failed call is finished by another.
   */
  async delete(id: string): Promise<UserErasure> {
    // Redis first and last: unreachable at first, nothing is erased yet
    await this.inRedis(this.erasures.idHash(id).then((hash) => this.store.holdErasure(id, hash)));
    // impressions held here and not yet written would bring the user back
    this.impressions.forget(id);
    const { found, versions } = await this.erasures.eraseUser(id);
    const redisKeys = await this.inRedis(this.store.deleteUser(versions, id));
    return { found, redisKeys, earlierExports: await this.exports.userExportsWritten() };
  }

  private async inRedis<T>(step: Promise<T>): Promise<T> {
    try {
      return await step;
    } catch (err) {
      const message = `Redis is unreachable: call deleteUser again to finish the erasure (${(err as Error).message})`;
      throw new ApiError(ApiErrorCode.Unavailable, message);
    }
  }
}
