import { Injectable } from '@nestjs/common';
import { InteractionRepository, UserRepository } from '@app/database';
import { InteractionPage } from '../interactions/models/interaction.model';
import { User } from './models/user.model';
import { decodeCursor, encodeCursor } from './history-cursor';

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly interactions: InteractionRepository,
  ) {}

  async find(id: string): Promise<User | null> {
    const user = await this.users.findByExternalId(id);
    return user && { key: user.id, id: user.externalId, createdAt: user.createdAt };
  }

  async history(user: User, limit: number, before?: string): Promise<InteractionPage> {
    // one extra row tells whether another page exists
    const rows = await this.interactions.historyOfUser(user.key, limit + 1, before ? decodeCursor(before) : undefined);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page, nextCursor: rows.length > limit ? encodeCursor(last) : null };
  }

  interactionCount(user: User): Promise<number> {
    return this.interactions.countOfUser(user.key);
  }

  delete(id: string): Promise<boolean> {
    return this.users.deleteByExternalId(id);
  }
}
