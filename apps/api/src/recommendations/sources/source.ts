import { ItemFilter } from '../dto/item-filter.input';
import { LiveModel } from '../live-model.service';
import { RecommendationSource, Recommendations, RankedItem } from '../models/recommendations.model';
import { Candidates } from './candidates';

/** Whom or what an answer is for: a user, an anonymous session's items, an item. */
export interface Subject {
  /** Item ids no answer may hold whatever its source: what the user has seen (unless kept), a session's own items. */
  excludedIds(): Promise<readonly string[]>;
}

/** What a caller asks beyond whom for: the answer's size and restrictions, and what the feedback loop needs. */
export interface AskOptions {
  limit: number;
  filter?: ItemFilter;
  /** Item ids never to answer beyond the filter's and the seen ones: negatives, items shown already (exposure). */
  exclude?: readonly string[];
  /** The model version to answer from (an experiment's arm); absent: the active one. */
  modelVersion?: number | null;
  /** The caller's name for this answer (to log impressions against); absent: one is made. */
  answerId?: string;
  /** An operator's look (the console), not items shown to a user: answered the same, counted apart. */
  preview?: boolean;
}

/** One request as every source sees it. */
export interface Ask<S extends Subject = Subject> {
  /** Names this answer for the feedback that refers to it (impressions, clicks) and for logs. */
  readonly answerId: string;
  readonly subject: S;
  readonly limit: number;
  /** The version the request asked for (an experiment's arm); null: the active one. */
  readonly requestedVersion: number | null;
  /** An operator's preview: answered as any other, never counted as shown to a user. */
  readonly preview: boolean;
  /** The model that answers; null before the first. The process holds the active version only, so it answers every request. */
  readonly live: LiveModel | null;
  /** What the answer may hold: active items the filter lets through, none of the request's exclusions. */
  readonly candidates: Candidates;
}

/** A source's answer: the items, and how they were found. */
export interface SourceAnswer {
  items: RankedItem[];
  source: RecommendationSource;
}

/**
 * One way to answer a request: a cached list, a decode, a fold-in, popularity. Null when it
 * cannot answer this one; the service then asks the next source of its list (popularity, last,
 * always answers). A source reads what it needs from the ask and its subject, which read each
 * store at most once per request.
 */
export interface Source<S extends Subject = Subject> {
  answer(ask: Ask<S>): Promise<SourceAnswer | null>;
}

/** The answer the service gives: the GraphQL shape, and the id feedback refers to it by. */
export interface Answer extends Recommendations {
  answerId: string;
}
