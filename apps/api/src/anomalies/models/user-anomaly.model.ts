import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { RecommendationSource } from '../../recommendations/models/recommendations.model';

@ObjectType({
  description:
    "How surprising a user's history is to the model: its reconstruction loss per item. Bots and shilling score high.",
})
export class UserAnomaly {
  @Field(() => ID) userId!: string;
  @Field(() => Float) score!: number;
  @Field(() => Float, { description: "0-100: the share of the version's users scoring at most this." })
  percentile!: number;
  @Field(() => Int) version!: number;
  @Field(() => RecommendationSource, {
    description: 'EMBEDDING: scored at training; FOLD_IN: scored now from the current history.',
  })
  source!: RecommendationSource;
}
