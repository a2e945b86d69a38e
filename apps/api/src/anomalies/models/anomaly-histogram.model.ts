import { Field, Float, Int, ObjectType } from '@nestjs/graphql';

@ObjectType()
export class HistogramBin {
  @Field(() => Float, { description: 'Lowest score of the bin.' }) from!: number;
  @Field(() => Float, { description: 'Highest score of the bin (the next bin starts here; the last bin includes it).' })
  to!: number;
  @Field(() => Int) users!: number;
}

@ObjectType({ description: "How the active version's anomaly scores (scored at training) are spread over its users." })
export class AnomalyHistogram {
  @Field(() => Int) version!: number;
  @Field(() => Int, { description: 'Users scored.' }) users!: number;
  @Field(() => [HistogramBin], { description: 'Bins of equal width from the lowest score to the highest.' })
  bins!: HistogramBin[];
}
