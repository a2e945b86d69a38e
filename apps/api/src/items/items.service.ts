import { Injectable } from '@nestjs/common';
import { ItemEntity, ItemRepository } from '@app/database';
import { BadUserInputError } from '../errors/api-error';
import { CatalogueService } from '../recommendations/catalogue.service';
import { ItemInput } from './dto/item.input';
import { Item } from './models/item.model';

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
    // each item passed UpsertItemsArgs' rules; one item twice in a call is ambiguous
    const seen = new Set<string>();
    input.forEach((item, index) => {
      if (seen.has(item.id))
        throw new BadUserInputError(`input[${index}].id: "${item.id}" appears twice in this call`, {
          index,
          field: 'id',
        });
      seen.add(item.id);
    });
    if (input.length === 0) return [];
    const saved = await this.items.upsert(
      input.map((i) => ({ externalId: i.id, attributes: i.attributes, active: i.active })),
    );
    // filters and the inactive flag apply from the next recommendation on
    this.catalogue.invalidate();
    return saved.map(toItem);
  }
}
