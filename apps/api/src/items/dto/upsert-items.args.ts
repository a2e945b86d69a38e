import { ArgsType, Field } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ValidateNested } from 'class-validator';
import { ItemInput } from './item.input';

export const MAX_ITEMS_PER_UPSERT = 10_000;

@ArgsType()
export class UpsertItemsArgs {
  @Field(() => [ItemInput])
  @ArrayMaxSize(MAX_ITEMS_PER_UPSERT, { message: `must hold at most ${MAX_ITEMS_PER_UPSERT} items` })
  @ValidateNested({ each: true })
  @Type(() => ItemInput)
  input!: ItemInput[];
}
