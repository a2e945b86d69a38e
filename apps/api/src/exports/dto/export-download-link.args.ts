import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_LINK_SECONDS } from '../../auth/browser-access';
import { IdArgs } from '../../validation/id.args';
import { IsExternalId } from '../../validation/input-rules.validators';

const SECONDS = `must be an integer from 1 to ${MAX_LINK_SECONDS}`;

/** One file of an export job (`id`), and how long its link holds. */
@ArgsType()
export class ExportDownloadLinkArgs extends IdArgs {
  /** A file name is held to the id rules: it goes into a URL and a path. */
  @Field({ description: 'One of the job\'s files, e.g. ids.txt' })
  @IsExternalId()
  file!: string;

  @Field(() => Int, { defaultValue: 300, description: `1..${MAX_LINK_SECONDS}` })
  @IsInt({ message: SECONDS })
  @Min(1, { message: SECONDS })
  @Max(MAX_LINK_SECONDS, { message: SECONDS })
  seconds!: number;
}
