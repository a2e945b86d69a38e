import { ArgsType, Field } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ValidateNested } from 'class-validator';
import { InteractionInput } from './interaction.input';

export const MAX_INTERACTIONS_PER_BATCH = 10_000;

@ArgsType()
export class RecordInteractionsArgs {
  @Field(() => [InteractionInput])
  @ArrayMaxSize(MAX_INTERACTIONS_PER_BATCH, { message: `must hold at most ${MAX_INTERACTIONS_PER_BATCH} interactions` })
  @ValidateNested({ each: true })
  @Type(() => InteractionInput)
  input!: InteractionInput[];
}
