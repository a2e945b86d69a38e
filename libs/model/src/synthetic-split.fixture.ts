import { generateSynthetic, syntheticItemId, syntheticUserId, SyntheticOptions } from '@app/synthetic';
import { EvaluationSplit, strongGeneralizationSplit } from './eval/splits';
import { IdIndex } from './interaction-matrix';

/** For specs: the seeded synthetic generator's interactions, split under the strong protocol (15% held out, 80% folded in). */
export function syntheticStrongSplit(data: SyntheticOptions, splitSeed: number): EvaluationSplit {
  const d = generateSynthetic(data);
  return strongGeneralizationSplit(
    {
      users: IdIndex.from(Array.from({ length: d.users }, (_, u) => syntheticUserId(u))),
      items: IdIndex.from(Array.from({ length: d.items }, (_, i) => syntheticItemId(i))),
      user: d.user,
      item: d.item,
      weight: d.weight,
    },
    splitSeed,
    { heldOutUsers: 0.15, foldIn: 0.8 },
  );
}
