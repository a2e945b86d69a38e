import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ReportImpressionsArgs } from './dto/report-impressions.args';
import { ImpressionsService } from './impressions.service';
import { ReportImpressionsResult } from './models/report-impressions-result.model';

@Resolver()
export class ImpressionsResolver {
  constructor(private readonly impressions: ImpressionsService) {}

  @RequiresScope('ingest')
  @Mutation(() => ReportImpressionsResult, {
    description:
      'The items of an answer the client actually showed its user (the exposure policy counts them). INVALID_RECOMMENDATION_ID or RECOMMENDATION_ID_EXPIRED for a bad id, BAD_USER_INPUT for an item not in that answer.',
  })
  async reportImpressions(
    @Args() { recommendationId, itemIds }: ReportImpressionsArgs,
  ): Promise<ReportImpressionsResult> {
    return { accepted: await this.impressions.report(recommendationId, itemIds) };
  }
}
