import { DEFAULT_TRAIN_OPTIONS, trainDae, TrainDaeOptions, TrainDaeResult } from './train-dae';
import { DaeConfig } from './dae-config';
import { CsrMatrix } from './interaction-matrix';
import { DEFAULT_ITEM_TERM_OPTIONS, fitItemTerm, ItemTermChoice, ItemTermOptions } from './fit-item-term';

export interface TrainModelOptions extends Partial<TrainDaeOptions> {
  seed: number;
  /** The item term's options, or false for the autoencoder alone. */
  itemTerm?: Partial<ItemTermOptions> | false;
}

export interface TrainModelResult extends TrainDaeResult {
  /** What the item term chose (null when it was turned off). */
  itemTerm: ItemTermChoice | null;
}

/**
 * What recoder serves, trained the one way evaluate, retrain and scheduled retrains share: the
 * autoencoder (trainDae, early-stopped on the validation users), then the linear item term chosen
 * on the same validation users (fitItemTerm). The returned model carries the term when it won.
 */
export async function trainModel(
  train: CsrMatrix,
  config: Partial<DaeConfig>,
  options: TrainModelOptions,
): Promise<TrainModelResult> {
  const { itemTerm, ...daeOptions } = options;
  const result = await trainDae(train, config, daeOptions);
  if (itemTerm === false) return { ...result, itemTerm: null };
  const k = options.validationK ?? DEFAULT_TRAIN_OPTIONS.validationK;
  const { term, choice } = fitItemTerm(train, options.validation, result.model, k, {
    ...DEFAULT_ITEM_TERM_OPTIONS,
    ...itemTerm,
  });
  if (!term) return { ...result, itemTerm: choice };
  const model = result.model.withItemTerm(term);
  result.model.dispose();
  return { ...result, model, itemTerm: choice };
}
