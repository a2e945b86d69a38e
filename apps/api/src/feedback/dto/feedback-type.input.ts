import { ArgsType, Field, Float, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ValidateNested } from 'class-validator';
import { FeedbackRole, MAX_CONDITIONS } from '@app/feedback';
import { IsExternalId } from '../../validation/input-rules.validators';

@InputType({
  description: "Within [min, max] (inclusive; leave one out for an open range), the event's weight gives it `role`.",
})
export class ValueConditionInput {
  @Field(() => FeedbackRole)
  role!: FeedbackRole;

  @Field(() => Float, { nullable: true })
  min?: number | null;

  @Field(() => Float, { nullable: true })
  max?: number | null;
}

@InputType({ description: "An event type's rule; the first condition met decides, else `role`." })
export class FeedbackTypeInput {
  @Field({ description: 'The event type, as recordInteractions receives it (1-256 characters).' })
  @IsExternalId()
  type!: string;

  @Field(() => FeedbackRole)
  role!: FeedbackRole;

  @Field(() => Float, {
    defaultValue: 1,
    description: "A POSITIVE event's weight in the weighted input, times the event's own: above 0, at most 1e6.",
  })
  weight!: number;

  @Field(() => [ValueConditionInput], {
    defaultValue: [],
    description: `At most ${MAX_CONDITIONS}, tried in order.`,
  })
  @ArrayMaxSize(MAX_CONDITIONS, { message: `must hold at most ${MAX_CONDITIONS} conditions` })
  @ValidateNested({ each: true })
  @Type(() => ValueConditionInput)
  conditions!: ValueConditionInput[];
}

@ArgsType()
export class SetFeedbackTypeArgs {
  @Field(() => FeedbackTypeInput)
  @ValidateNested()
  @Type(() => FeedbackTypeInput)
  input!: FeedbackTypeInput;
}

@ArgsType()
export class FeedbackTypeNameArgs {
  @Field()
  @IsExternalId()
  type!: string;
}

// optional fields a GraphQL client may leave out arrive undefined: null means "no bound" either way
export const boundOf = (v: number | null | undefined): number | null => (v === undefined ? null : v);
