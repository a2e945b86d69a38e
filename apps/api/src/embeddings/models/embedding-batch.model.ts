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
