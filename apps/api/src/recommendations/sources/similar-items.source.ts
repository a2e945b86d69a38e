import { Injectable } from '@nestjs/common';
import { EmbeddingStoreRepository, TopItems } from '@app/embedding-store';
import { LiveModel } from '../live-model.service';
import { RecommendationSource } from '../models/recommendations.model';
import { TickBatcher } from '../tick-batcher';
import { Ask, Source, SourceAnswer, Subject } from './source';

/** An item whose nearest items are asked for; the answer leaves it out. */
export class ItemSubject implements Subject {
  constructor(readonly itemId: string) {}

  excludedIds(): Promise<readonly string[]> {
    return Promise.resolve([this.itemId]);
  }
}

/** Items whose nearest neighbours are kept in memory per model (about 0.8 KB each). */
export const SIMILAR_CACHE_ITEMS = 20_000;
/** Neighbours kept per item compared here; a larger limit compares the item again. */
const NEIGHBOURS = 100;

/** An item's nearest items, ranked to `depth` (a shorter list holds every other item). */
interface Neighbours {
  top: TopItems;
  depth: number;
}

/**
 * Nearest items by cosine of the model's item vectors. Null for an item the model does not know
 * (a new one) or without a model.
 */
@Injectable()
export class SimilarItemsSource implements Source<ItemSubject> {
  /** Per model served (the active one, and an experiment's canary): its item vectors never change. */
  private readonly caches = new WeakMap<
    LiveModel,
    { tops: Map<number, Neighbours>; precomputed: TickBatcher<string, TopItems | null> }
  >();

  constructor(private readonly store: EmbeddingStoreRepository) {}

  async answer({ live, subject, candidates, limit }: Ask<ItemSubject>): Promise<SourceAnswer | null> {
    const index = live?.itemIndex.get(subject.itemId);
    if (!live || index === undefined) return null;
    const { top, depth } = await this.neighboursOf(live, index);
    const items =
      candidates.fromList(top, depth, limit) ?? candidates.rank(await live.scoring.similar(index), limit, [index]);
    return { items, source: RecommendationSource.EMBEDDING };
  }

  /**
   * An item's nearest items (itself left out), kept in a bounded cache: a model's item vectors
   * never change, and requests concentrate on popular items. A miss reads the list the training
   * job precomputed into Redis for the popular items (the requests of a tick share a round trip),
   * else compares the item with the catalogue on a scoring thread.
   */
  private async neighboursOf(live: LiveModel, index: number): Promise<Neighbours> {
    let cache = this.caches.get(live);
    if (!cache) {
      const read = async (ids: string[]) => {
        const lists = await this.store.readSimilar(live.version, ids);
        return new Map(ids.map((id, i) => [id, lists[i]]));
      };
      cache = { tops: new Map(), precomputed: new TickBatcher(read, null) };
      this.caches.set(live, cache);
    }
    const { tops, precomputed } = cache;
    // least recently used first: a Map keeps insertion order, which is all an LRU of one-size
    // entries needs (a library such as lru-cache would add a dependency for these lines)
    const hit = tops.get(index);
    if (hit) {
      tops.delete(index);
      tops.set(index, hit);
      return hit;
    }
    // Redis down: compared here, as for an item without a list
    const stored = live.similarItems === null ? null : await precomputed.get(live.itemIds[index]).catch(() => null);
    const found = stored
      ? { top: stored, depth: live.similarItems! }
      : { top: await live.scoring.similar(index, { k: NEIGHBOURS, exclude: [index] }), depth: NEIGHBOURS };
    tops.set(index, found);
    if (tops.size > SIMILAR_CACHE_ITEMS) tops.delete(tops.keys().next().value!);
    return found;
  }
}
