import { Injectable } from '@nestjs/common';
import { ItemEntity, ItemRepository } from '@app/database';
import { BadUserInputError } from '../errors/api-error';
import { CatalogueService } from '../recommendations/catalogue.service';
import { checkId } from '../interactions/validate-interactions';
import { ItemInput } from './dto/item.input';
import { Item } from './models/item.model';

export const MAX_ITEMS_PER_UPSERT = 10_000;

const toItem = (e: ItemEntity): Item => ({
  id: e.externalId,
  attributes: e.attributes,
  active: e.active,
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

@Injectable()
export class ItemsService {
  constructor(
    private readonly items: ItemRepository,
    private readonly catalogue: CatalogueService,
  ) {}

  async find(id: string): Promise<Item | null> {
    const item = await this.items.findByExternalId(id);
    return item && toItem(item);
  }

  async upsert(input: ItemInput[]): Promise<Item[]> {
    if (input.length > MAX_ITEMS_PER_UPSERT) {
      throw new BadUserInputError(`At most ${MAX_ITEMS_PER_UPSERT} items per call, got ${input.length}`, { field: 'input' });
    }
    const seen = new Set<string>();
    input.forEach((item, index) => {
      const fail = (field: string, reason: string): never => {
        throw new BadUserInputError(`input[${index}].${field}: ${reason}`, { index, field });
      };
      checkId(item.id, 'id', fail);
      if (seen.has(item.id)) fail('id', `"${item.id}" appears twice in this call`);
      seen.add(item.id);
    });
    if (input.length === 0) return [];
    const saved = await this.items.upsert(input.map((i) => ({ externalId: i.id, attributes: i.attributes, active: i.active })));
    // filters and the inactive flag apply from the next recommendation on
    this.catalogue.invalidate();
    return saved.map(toItem);
  }
}
