import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsIntFrom } from './ranges';

/**
 * The `limit` argument of every list, checked here once: the services trust it. A field's
 * arguments class extends `LimitArgs(default, max)`.
 */
export function LimitArgs(defaultValue: number, max: number) {
  @ArgsType()
  abstract class Limit {
    @Field(() => Int, { defaultValue, description: `1..${max}` })
    @IsIntFrom(1, max)
    limit!: number;
  }
  return Limit;
}
