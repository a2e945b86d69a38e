import { InteractionFormat } from '@app/ingest';

/**
 * The generalisation suite's datasets (files under ../shared/data, read at run time, never copied)
 * and each one's relevance rule. The 10-core user split keeps every interaction (minRating 0): the
 * implicit sets (check-in counts) have no negative values, and one rule for all keeps the suite
 * comparable. The strong protocol on the MovieLens sets keeps ratings of 4 and more, as Liang et al.
 */
export interface SuiteDataset {
  name: string;
  file: string;
  format: InteractionFormat;
  /** Interactions with a weight below this are dropped before the user split. */
  minRating: number;
  /** What the weights are, and why the rule above reads them so. */
  relevance: string;
  /** Also run under the strong protocol, with this rating threshold. */
  strong?: { minRating: number };
}

export const SUITE_DATASETS: readonly SuiteDataset[] = [
  {
    name: 'ml-100k',
    file: 'ml-100k/u.data',
    format: 'movielens-100k',
    minRating: 0,
    relevance: 'ratings 1-5; every rating is an interaction',
    strong: { minRating: 4 },
  },
  {
    name: 'ml-latest-small',
    file: 'ml-latest-small/ratings.csv',
    format: 'csv',
    minRating: 0,
    relevance: 'ratings 0.5-5; every rating is an interaction',
    strong: { minRating: 4 },
  },
  {
    name: 'amazon-music',
    file: 'amazon-music/ratings.csv',
    format: 'csv',
    minRating: 0,
    relevance: 'ratings 1-5; every rating is an interaction (a purchase and a review)',
  },
  {
    name: 'foursquare-sg',
    file: 'foursquare-sg/ratings.csv',
    format: 'csv',
    minRating: 0,
    relevance: 'check-in counts; every visited venue is an interaction',
  },
  {
    name: 'yelp-hin',
    file: 'yelp-hin/ratings.csv',
    format: 'csv',
    minRating: 0,
    relevance: 'review stars 1-5; every review is an interaction',
  },
];
