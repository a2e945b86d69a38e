import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { FeedbackTypeRule, ruleProblem } from '@app/feedback';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { BadUserInputError } from '../errors/api-error';
import { boundOf, FeedbackTypeNameArgs, SetFeedbackTypeArgs } from './dto/feedback-type.input';
import { FeedbackRulesService } from './feedback-rules.service';
import { FeedbackType } from './models/feedback-type.model';

@Resolver()
export class FeedbackTypesResolver {
  constructor(private readonly rules: FeedbackRulesService) {}

  @RequiresScope('admin')
  @Query(() => [FeedbackType], {
    description: 'The declared event types and their rules, by type; any other type is POSITIVE of weight 1.',
  })
  async feedbackTypes(): Promise<FeedbackType[]> {
    // this process's rules may be 30 s old: an admin reads what is stored
    return asModels((await this.rules.reload()).list);
  }

  @RequiresScope('admin')
  @Mutation(() => FeedbackType, {
    description:
      "Declares an event type or replaces its rule. It applies to the type's stored events as well as new ones: to history and hidden items at once, to popularity at its next count, to the model at the next training (fold-ins meanwhile read events under it).",
  })
  async setFeedbackType(@Args() { input }: SetFeedbackTypeArgs): Promise<FeedbackType> {
    const rule: FeedbackTypeRule = {
      type: input.type,
      role: input.role,
      weight: input.weight,
      conditions: input.conditions.map((c) => ({ role: c.role, min: boundOf(c.min), max: boundOf(c.max) })),
    };
    const problem = ruleProblem(rule);
    if (problem) {
      const field = problem.slice(0, problem.indexOf(':'));
      throw new BadUserInputError(`input.${problem}`, {
        field: field
          .split('.')
          .pop()!
          .replace(/\[\d+\]$/, ''),
      });
    }
    const stored = (await this.rules.set(rule)).ruleOf(rule.type);
    return asModels([stored ?? rule])[0];
  }

  @RequiresScope('admin')
  @Mutation(() => Boolean, {
    description:
      "Forgets a type's rule: its events are POSITIVE of weight 1 again (in strict mode, new ones are refused). False if it had none.",
  })
  removeFeedbackType(@Args() { type }: FeedbackTypeNameArgs): Promise<boolean> {
    return this.rules.remove(type);
  }
}

const asModels = (rules: readonly FeedbackTypeRule[]): FeedbackType[] =>
  rules.map((r) => ({ type: r.type, role: r.role, weight: r.weight, conditions: r.conditions.map((c) => ({ ...c })) }));
