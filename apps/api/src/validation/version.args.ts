import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, IsOptional, Min } from 'class-validator';

const VERSION = 'must be a positive integer';

/** A model version; left out, the active one. */
@ArgsType()
export class OptionalVersionArgs {
  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt({ message: VERSION })
  @Min(1, { message: VERSION })
  version?: number;
}

@ArgsType()
export class VersionArgs {
  @Field(() => Int)
  @IsInt({ message: VERSION })
  @Min(1, { message: VERSION })
  version!: number;
}
