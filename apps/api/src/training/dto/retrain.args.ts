import { ArgsType, Field } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsOptional, ValidateNested } from 'class-validator';
import { TrainingConfigInput } from './training-config.input';

@ArgsType()
export class RetrainArgs {
  @Field(() => TrainingConfigInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => TrainingConfigInput)
  config?: TrainingConfigInput;

  @Field({ defaultValue: false })
  force!: boolean;
}
