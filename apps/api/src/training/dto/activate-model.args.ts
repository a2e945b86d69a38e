import { ArgsType, Field, Float } from '@nestjs/graphql';
import { IsOptional } from 'class-validator';
import { IsNumberFrom } from '../../validation/ranges';
import { VersionArgs } from '../../validation/version.args';

@ArgsType()
export class ActivateModelArgs extends VersionArgs {
  @Field(() => Float, {
    nullable: true,
    description:
      'Above 0 and below 1: start an experiment instead, the version (READY) answering this share of the users as a CANARY beside the ACTIVE one',
  })
  @IsOptional()
  @IsNumberFrom(0, 1, { aboveMin: true, belowMax: true })
  traffic?: number;
}
