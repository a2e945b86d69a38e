import { ArgsType, Field, Int } from '@nestjs/graphql';
import { MAX_LINK_SECONDS } from '../../auth/browser-access';
import { IdArgs } from '../../validation/id.args';
import { IsExternalId } from '../../validation/input-rules.validators';
import { IsIntFrom } from '../../validation/ranges';

/** One file of an export job (`id`), and how long its link holds. */
@ArgsType()
export class ExportDownloadLinkArgs extends IdArgs {
  /** A file name is held to the id rules: it goes into a URL and a path. */
  @Field({ description: "One of the job's files, e.g. ids.txt" })
  @IsExternalId()
  file!: string;

  @Field(() => Int, { defaultValue: 300, description: `1..${MAX_LINK_SECONDS}` })
  @IsIntFrom(1, MAX_LINK_SECONDS)
  seconds!: number;
}
