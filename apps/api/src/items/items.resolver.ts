import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { IdArgs } from '../validation/id.args';
import { MAX_ITEMS_PER_UPSERT, UpsertItemsArgs } from './dto/upsert-items.args';
import { ItemsService } from './items.service';
import { Item } from './models/item.model';

@Resolver(() => Item)
export class ItemsResolver {
  constructor(private readonly items: ItemsService) {}

  @RequiresScope('serve')
  @Query(() => Item, { nullable: true })
  item(@Args() { id }: IdArgs): Promise<Item | null> {
    return this.items.find(id);
  }

  @RequiresScope('catalogue')
  @Mutation(() => [Item], { description: `Creates or updates up to ${MAX_ITEMS_PER_UPSERT} items in one transaction.` })
  upsertItems(@Args() { input }: UpsertItemsArgs): Promise<Item[]> {
    return this.items.upsert(input);
  }
}
