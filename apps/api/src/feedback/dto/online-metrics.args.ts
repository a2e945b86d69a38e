import { ArgsType, Field, Int, registerEnumType } from '@nestjs/graphql';
import { IsEnum, IsInt, IsOptional, Min } from 'class-validator';

export enum OnlineMetricsBucket {
  HOUR = 'HOUR',
  DAY = 'DAY',
}
registerEnumType(OnlineMetricsBucket, {
  name: 'TimeBucket',
  description: 'UTC hours, or UTC days (the sum of their hours).',
});

const VERSION = 'must be a non-negative integer (0: answers without a model)';

@ArgsType()
export class OnlineMetricsArgs {
  @Field(() => Int, { description: 'The model version; 0: answers no model scored (popularity).' })
  @IsInt({ message: VERSION })
  @Min(0, { message: VERSION })
  version!: number;

  @Field(() => Date, {
    nullable: true,
    description: 'From (inclusive, rounded down to the bucket); default: 7 days before `to`.',
  })
  @IsOptional()
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'To (exclusive, rounded up to the bucket); default: now.' })
  @IsOptional()
  to?: Date | null;

  @Field(() => OnlineMetricsBucket, { defaultValue: OnlineMetricsBucket.DAY })
  @IsEnum(OnlineMetricsBucket)
  bucket!: OnlineMetricsBucket;
}
