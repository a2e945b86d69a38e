import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType()
export class ReportImpressionsResult {
  @Field(() => Int, {
    description:
      'Impressions counted (each item once a call); 0 for an answer given to no user (an anonymous session or item).',
  })
  accepted!: number;
}
