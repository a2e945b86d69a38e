import { DaeConfig } from './dae-config';

/** Shared uniform negatives per batch of sampled training (chosen on yelp-hin's validation users, docs/evaluation.md). */
export const DEFAULT_SAMPLED_NEGATIVES = 1000;

/**
 * Embedding width of a large catalogue when none is configured. Sampled training holds both item
 * layers and their two Adam moments: 6 x items x width floats, 6 GB at 1M items and 256 (600, the
 * small-catalogue default, would be 14.4 GB), which keeps a 1M-item training under 12 GiB peak RSS
 * with the data and the returned copy (bench:train, docs/evaluation.md).
 */
export const LARGE_CATALOGUE_EMBEDDING_DIM = 256;

/**
 * How a catalogue of `items` trains: at least `minItems` (SAMPLED_TRAINING_MIN_ITEMS), with sampled
 * negatives, and at LARGE_CATALOGUE_EMBEDDING_DIM unless a width is configured; below it, or for a
 * shape with hidden layers (sampled training is [I-d-I] only), the full output layer (null).
 */
export function largeCatalogueTraining(
  items: number,
  minItems: number,
  config: Pick<DaeConfig, 'hidden'>,
  configuredWidth?: number,
): { sampledNegatives: number; embeddingDim: number } | null {
  if (items < minItems || config.hidden.length > 0) return null;
  return {
    sampledNegatives: DEFAULT_SAMPLED_NEGATIVES,
    embeddingDim: configuredWidth ?? LARGE_CATALOGUE_EMBEDDING_DIM,
  };
}
