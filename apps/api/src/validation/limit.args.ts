import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, Max, Min } from 'class-validator';

/**
 * The `limit` argument of every list, checked here once: the services trust it. A field's
 * arguments class extends `LimitArgs(default, max)`.
 */
export function LimitArgs(defaultValue: number, max: number) {
  const message = `must be an integer from 1 to ${max}`;
  @ArgsType()
  abstract class Limit {
    @Field(() => Int, { defaultValue, description: `1..${max}` })
    @IsInt({ message })
    @Min(1, { message })
    @Max(max, { message })
    limit!: number;
  }
  return Limit;
}
