import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

// keys equal values: GraphQL shows the keys
export enum EmbeddingKind {
  USER = 'USER',
  ITEM = 'ITEM',
}
registerEnumType(EmbeddingKind, { name: 'EmbeddingKind' });

@ObjectType()
export class IdVector {
  @Field(() => ID) id!: string;
  @Field(() => [Float]) vector!: number[];
}

@ObjectType()
export class EmbeddingBatch {
  @Field(() => Int) version!: number;
  @Field(() => Int) dimension!: number;
  @Field(() => [IdVector], { description: 'In the order asked, unknown ids left out.' }) vectors!: IdVector[];
  @Field(() => [ID], { description: 'Ids with no vector in this version.' }) missing!: string[];
}

@ObjectType()
export class MapPoint {
  @Field(() => ID) id!: string;
  @Field(() => [Float], { description: 'Position along each component of the map, the first component first.' })
  coordinates!: number[];
}

@ObjectType({
  description: "Users or items placed on the model version's map: the first principal components of their vectors.",
})
export class EmbeddingMapBatch {
  @Field(() => Int) version!: number;
  @Field(() => Int, { description: 'Coordinates per point.' }) components!: number;
  @Field(() => [Float], { description: "Each component's share of the vectors' total variance." })
  explainedVariance!: number[];
  @Field(() => Int, { description: 'Vectors the map was fitted on (an even sample of a large version).' })
  fittedOn!: number;
  @Field(() => [MapPoint], { description: 'In the order asked, unknown ids left out.' }) points!: MapPoint[];
  @Field(() => [ID], { description: 'Ids with no vector in this version.' }) missing!: string[];
}

@ObjectType()
export class MapPagePoint extends MapPoint {
  /** Read with the page (items only); served by the field resolver, which needs the `serve` scope. */
  itemAttributes!: Record<string, unknown> | null;
}

@ObjectType({
  description:
    'One page of every user or item of a version on its 2-D map, in the order they were first recorded: pass nextCursor as `after` for the next.',
})
export class EmbeddingMapPage {
  @Field(() => Int) version!: number;
  @Field(() => Int, { description: 'Coordinates per point.' }) components!: number;
  @Field(() => [Float], { description: "Each component's share of the vectors' total variance." })
  explainedVariance!: number[];
  @Field(() => Int, {
    description: 'Users or items the version published (folded-in users since then come on top).',
  })
  total!: number;
  @Field(() => [MapPagePoint], {
    description: 'Those of the page with a vector in this version (the others are left out, so a page may hold fewer).',
  })
  points!: MapPagePoint[];
  @Field(() => String, { nullable: true, description: 'Null on the last page.' }) nextCursor!: string | null;
}
