import { Field, Float, ID, InputType } from '@nestjs/graphql';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { MAX_RECOMMENDATION_ID_LENGTH } from '../../feedback/dto/report-impressions.args';
import { IsExternalId, IsOccurredAt, IsWeight } from '../../validation/input-rules.validators';

@InputType({ description: 'One thing a user did to an item.' })
export class InteractionInput {
  @Field(() => ID)
  @IsExternalId()
  userId!: string;

  @Field(() => ID)
  @IsExternalId()
  itemId!: string;

  @Field({
    defaultValue: 'view',
    description: 'view, click, purchase, rating, or a type of your own (1-256 characters).',
  })
  @IsExternalId()
  type!: string;

  @Field(() => Float, {
    defaultValue: 1,
    description: 'Strength of the signal, e.g. the rating: 0 or 1e-6..1e6 in magnitude.',
  })
  @IsWeight()
  weight!: number;

  @Field({ nullable: true, description: 'When it happened (default: when recorded), from 1970 to a day ahead of now.' })
  @IsOptional()
  @IsOccurredAt()
  occurredAt?: Date;

  @Field({
    nullable: true,
    description: 'Your id of the event: a retried batch with the same ids is not counted twice.',
  })
  @IsOptional()
  @IsExternalId()
  eventId?: string;

  @Field({
    nullable: true,
    description:
      'The recommendationId of the answer the event came from (checked: signed by this service, not expired, for this user); stored with the event for attribution.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_RECOMMENDATION_ID_LENGTH)
  recommendationId?: string;
}
