import { Injectable } from '@nestjs/common';
import { CatalogueItem } from '@app/database';
import { TopItems } from '@app/embedding-store';
import { topK } from '@app/model';
import { Catalogue, matchesAttributes } from '../catalogue.service';
import { ItemFilter } from '../dto/item-filter.input';
import { indicesOf, LiveModel } from '../live-model.service';
import { RankedItem } from '../models/recommendations.model';

/**
 * A model served with a catalogue snapshot. Ranked lists look their few items up by id; a full
 * score row needs every item's entry, which `full` holds from the first such ranking on: built
 * on the request thread, at 1M items 0.7-0.9 s (bench:catalogue), a stall a model's or a
 * catalogue's first answer would otherwise pay, however it was asked.
 */
interface Alignment {
  live: LiveModel;
  catalogue: Catalogue;
  full: { items: (CatalogueItem | undefined)[]; blocked: Uint8Array } | null;
}

/** Builds each request's Candidates, a model and the catalogue it is served with aligned once per pair. */
@Injectable()
export class CandidateRules {
  /** Per model served (the active one, and an experiment's canary), for the catalogue it was aligned with. */
  private readonly alignments = new WeakMap<LiveModel, Alignment>();

  of(
    live: LiveModel | null,
    catalogue: Catalogue,
    filter: ItemFilter | undefined,
    exclude: readonly string[] = [],
  ): Candidates {
    return new Candidates(catalogue, live && this.aligned(live, catalogue), filter, exclude);
  }

  private aligned(live: LiveModel, catalogue: Catalogue): Alignment {
    let alignment = this.alignments.get(live);
    if (alignment?.catalogue !== catalogue) {
      alignment = { live, catalogue, full: null };
      this.alignments.set(live, alignment);
    }
    return alignment;
  }
}

/** Every model item's catalogue entry, and which ones may never be recommended (unknown to the catalogue or inactive). */
function alignFully({ live, catalogue }: Alignment): NonNullable<Alignment['full']> {
  const items = live.itemIds.map((id) => catalogue.byId.get(id));
  return { items, blocked: Uint8Array.from(items, (item) => (item?.active ? 0 : 1)) };
}

/**
 * What one request may be answered with: active catalogue items that its filter lets through and
 * that it does not exclude (the filter's excludeIds and the request's own exclusions). Turns a
 * ranked list, a score row or the popularity list into the answer's items.
 */
export class Candidates {
  /** The filter may let through only a few items: ranking it needs the full score row. */
  readonly narrows: boolean;
  private readonly include: Set<string> | null;
  private readonly excludedIds: readonly string[];
  private readonly excluded: Set<string> | null;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly alignment: Alignment | null,
    private readonly filter: ItemFilter | undefined,
    exclude: readonly string[],
  ) {
    this.narrows = !!(filter?.includeIds || filter?.attributes);
    this.include = filter?.includeIds ? new Set(filter.includeIds) : null;
    this.excludedIds = exclude.length ? [...(filter?.excludeIds ?? []), ...exclude] : (filter?.excludeIds ?? []);
    this.excluded = this.excludedIds.length ? new Set(this.excludedIds) : null;
  }

  /**
   * The first `limit` items of a ranked list (best first) that may be answered; null when the list
   * runs out first (then the caller ranks the full row). A list is a prefix of the full ranking, so
   * its filtered prefix is the filtered ranking's; one shorter than `listSize` (the depth it was
   * ranked to) holds every candidate and cannot run out early.
   */
  fromList(top: TopItems, listSize: number, limit: number): RankedItem[] | null {
    const { live, catalogue } = this.aligned();
    const out: RankedItem[] = [];
    for (let r = 0; r < top.items.length && out.length < limit; r++) {
      const item = catalogue.byId.get(live.itemIds[top.items[r]]);
      if (item && this.allows(item))
        out.push({ item: { id: item.id, attributes: item.attributes }, score: top.scores[r] });
    }
    return out.length === limit || top.items.length < listSize ? out : null;
  }

  /** Top-k of a full score row over what may be answered, the `exclude` item indices left out too. */
  rank(scores: Float32Array, limit: number, exclude: ArrayLike<number>): RankedItem[] {
    const alignment = this.aligned();
    const { live } = alignment;
    const { items, blocked } = (alignment.full ??= alignFully(alignment));
    const { include, filter } = this;
    const masked = Float32Array.from(scores);
    // topK skips NaN: items that are not in the catalogue or not active, then the filter's
    for (let i = 0; i < masked.length; i++) if (blocked[i]) masked[i] = NaN;
    if (include || filter?.attributes) {
      for (let i = 0; i < masked.length; i++) {
        const item = items[i];
        if (
          item &&
          ((include && !include.has(item.id)) ||
            (filter?.attributes && !matchesAttributes(item.attributes, filter.attributes)))
        )
          masked[i] = NaN;
      }
    }
    for (let r = 0; r < exclude.length; r++) masked[exclude[r]] = NaN;
    for (const i of indicesOf(live, this.excludedIds)) masked[i] = NaN;
    return Array.from(topK(masked, limit), (i) => {
      const item = items[i]!;
      return { item: { id: item.id, attributes: item.attributes }, score: masked[i] };
    });
  }

  /** The most interacted-with items that may be answered, `exclude` (ids) left out, scored by their counts. */
  popular(limit: number, exclude: readonly string[]): RankedItem[] {
    const left = new Set(exclude);
    const out: RankedItem[] = [];
    for (const item of this.catalogue.popular) {
      if (out.length === limit) break;
      if (!left.has(item.id) && this.allows(item))
        out.push({ item: { id: item.id, attributes: item.attributes }, score: item.interactions });
    }
    return out;
  }

  private allows(item: CatalogueItem): boolean {
    if (!item.active || (this.include && !this.include.has(item.id)) || this.excluded?.has(item.id)) return false;
    return !this.filter?.attributes || matchesAttributes(item.attributes, this.filter.attributes);
  }

  private aligned(): Alignment {
    if (!this.alignment) throw new Error('ranking model items needs a model');
    return this.alignment;
  }
}
