import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-type-json';

// keys equal values: GraphQL shows the keys
export enum RecommendationSource {
  EMBEDDING = 'EMBEDDING',
  FOLD_IN = 'FOLD_IN',
  POPULARITY = 'POPULARITY',
}
registerEnumType(RecommendationSource, {
  name: 'RecommendationSource',
  description:
    'EMBEDDING: the cached embedding; FOLD_IN: the current history encoded now; POPULARITY: no history or no model yet.',
});

@ObjectType()
export class ItemSummary {
  @Field(() => ID) id!: string;
  @Field(() => GraphQLJSONObject) attributes!: Record<string, unknown>;
}

@ObjectType()
export class ScoredItem {
  @Field(() => ItemSummary) item!: ItemSummary;
  @Field(() => Float, {
    description: "The decoder's score (cosine for similar items, interaction count for popularity).",
  })
  score!: number;
  @Field(() => Int, { description: 'Its place in the answer, 1 first: report it with the events it leads to.' })
  position!: number;
}

/** An item as a source ranks it; the answer numbers them. */
export type RankedItem = Omit<ScoredItem, 'position'>;

@ObjectType()
export class Recommendations {
  @Field(() => [ScoredItem]) items!: ScoredItem[];
  @Field(() => Int, { nullable: true, description: 'The model that scored them; null for popularity without a model.' })
  modelVersion!: number | null;
  @Field(() => RecommendationSource) source!: RecommendationSource;
  @Field({ description: 'Asked as a preview (an operator looking), not shown to a user.' }) preview!: boolean;
  @Field(() => String, {
    nullable: true,
    description:
      'Names this answer (signed; whom it was for, the model, the query, when, its items) for reportImpressions and the events it leads to. Null for a preview.',
  })
  recommendationId!: string | null;
}

@ObjectType()
export class SessionRecommendations extends Recommendations {
  @Field(() => [ID], { description: 'Given ids the model does not know; ignored.' }) unknownItemIds!: string[];
}

@ObjectType()
export class UserEmbedding {
  @Field(() => ID) userId!: string;
  @Field(() => Int) modelVersion!: number;
  @Field(() => Int) dimension!: number;
  @Field(() => [Float]) vector!: number[];
  @Field(() => RecommendationSource) source!: RecommendationSource;
}
