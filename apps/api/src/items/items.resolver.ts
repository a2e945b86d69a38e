import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ItemInput } from './dto/item.input';
import { ItemsService, MAX_ITEMS_PER_UPSERT } from './items.service';
import { Item } from './models/item.model';

@Resolver(() => Item)
export class ItemsResolver {
  constructor(private readonly items: ItemsService) {}

  @RequiresScope('serve')
  @Query(() => Item, { nullable: true })
  item(@Args('id', { type: () => ID }) id: string): Promise<Item | null> {
    return this.items.find(id);
  }

  @RequiresScope('catalogue')
  @Mutation(() => [Item], { description: `Creates or updates up to ${MAX_ITEMS_PER_UPSERT} items in one transaction.` })
  upsertItems(@Args('input', { type: () => [ItemInput] }) input: ItemInput[]): Promise<Item[]> {
    return this.items.upsert(input);
  }
}
