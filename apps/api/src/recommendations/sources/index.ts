import { Provider, Type } from '@nestjs/common';
import { CachedListSource } from './cached-list.source';
import { CandidateRules } from './candidates';
import { DecodeSource } from './decode.source';
import { FoldInSource } from './fold-in.source';
import { PopularitySource } from './popularity.source';
import { SessionSource } from './session.source';
import { SimilarItemsSource } from './similar-items.source';
import { Source } from './source';
import { UserRanking } from './user-ranking';
import { UserSubjects } from './user-subject';

export * from './source';
export { CandidateRules } from './candidates';
export { FoldInSource } from './fold-in.source';
export { SessionSubject } from './session.source';
export { ItemSubject } from './similar-items.source';
export { UserSubject, UserSubjects } from './user-subject';

/** The sources asked for a user's recommendations, in order: the first that answers wins. */
export const USER_SOURCES = Symbol('USER_SOURCES');
/** ... for an anonymous session's (recommendationsForItems). */
export const SESSION_SOURCES = Symbol('SESSION_SOURCES');
/** ... for an item's nearest items (similarItems). */
export const ITEM_SOURCES = Symbol('ITEM_SOURCES');

/**
 * A list of sources behind one token, each a provider of its own (Nest injects what each one
 * uses); `Source<never>`: a source of any subject.
 */
const sources = (token: symbol, list: Type<Source<never>>[]): Provider => ({
  provide: token,
  useFactory: (...found: Source<never>[]) => found,
  inject: list,
});

export const SOURCE_PROVIDERS: Provider[] = [
  CandidateRules,
  UserSubjects,
  UserRanking,
  CachedListSource,
  DecodeSource,
  FoldInSource,
  SessionSource,
  SimilarItemsSource,
  PopularitySource,
  sources(USER_SOURCES, [CachedListSource, DecodeSource, FoldInSource, PopularitySource]),
  sources(SESSION_SOURCES, [SessionSource, PopularitySource]),
  sources(ITEM_SOURCES, [SimilarItemsSource, PopularitySource]),
];
