import { Injectable } from '@nestjs/common';
import { CatalogueItem } from '@app/database';
import { TopItems } from '@app/embedding-store';
import { topK } from '@app/model';
import { Catalogue, matchesAttributes } from '../catalogue.service';
import { ItemFilter } from '../dto/item-filter.input';
import { inSlices, SLICE } from '../in-slices';
import { indicesOf, LiveModel } from '../live-model.service';
import { RankedItem } from '../models/recommendations.model';

/**
 * A model served with a catalogue snapshot: each model item's catalogue entry (`entries`, one
 * array per SLICE items), and which ones may never be recommended (unknown to the catalogue or
 * inactive). The entries are looked up a slice at a time once the pair is first served (at 1M
 * items, at once they held the request thread for 0.5-0.7 s: bench:catalogue); until then a
 * ranked list looks its items up by id, and a full score row looks them all up at once (that
 * row costs a full decode anyway).
 */
interface Alignment {
  live: LiveModel;
  catalogue: Catalogue;
  entries: (CatalogueItem | undefined)[][] | null;
  blocked: Uint8Array | null;
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
      const started: Alignment = { live, catalogue, entries: null, blocked: null };
      const entries: (CatalogueItem | undefined)[][] = [];
      // no more lookups once a full row has aligned it at once, or a newer catalogue replaced it
      const wanted = () => !started.entries && this.alignments.get(live) === started;
      void inSlices(live.itemIds.length, (start, end) => {
        if (wanted()) entries.push(entriesOf(started, start, end));
      }).then(() => wanted() && (started.entries = entries));
      this.alignments.set(live, (alignment = started));
    }
    return alignment;
  }
}

function entriesOf({ live, catalogue }: Alignment, start: number, end: number): (CatalogueItem | undefined)[] {
  const out: (CatalogueItem | undefined)[] = [];
  for (let i = start; i < end; i++) out.push(catalogue.byId.get(live.itemIds[i]));
  return out;
}

/** Model item `i`'s catalogue entry in an alignment's entries. */
const entryAt = (entries: (CatalogueItem | undefined)[][], i: number) => entries[Math.floor(i / SLICE)][i % SLICE];

/** The alignment's entries, every slice looked up now if its slices have not finished. */
function allEntries(alignment: Alignment): (CatalogueItem | undefined)[][] {
  if (alignment.entries) return alignment.entries;
  const entries: (CatalogueItem | undefined)[][] = [];
  for (let start = 0; start < alignment.live.itemIds.length; start += SLICE)
    entries.push(entriesOf(alignment, start, Math.min(alignment.live.itemIds.length, start + SLICE)));
  return (alignment.entries = entries);
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
    const { live, catalogue, entries } = this.aligned();
    const out: RankedItem[] = [];
    for (let r = 0; r < top.items.length && out.length < limit; r++) {
      const i = top.items[r];
      // the slices' entries once they are all looked up (a Map lookup each was 4% of the request thread)
      const item = entries ? entryAt(entries, i) : catalogue.byId.get(live.itemIds[i]);
      if (item && this.allows(item))
        out.push({ item: { id: item.id, attributes: item.attributes }, score: top.scores[r] });
    }
    return out.length === limit || top.items.length < listSize ? out : null;
  }

  /** Top-k of a full score row over what may be answered, the `exclude` item indices left out too. */
  rank(scores: Float32Array, limit: number, exclude: ArrayLike<number>): RankedItem[] {
    const alignment = this.aligned();
    const { live } = alignment;
    const entries = allEntries(alignment);
    const entry = (i: number) => entryAt(entries, i);
    const blocked = (alignment.blocked ??= Uint8Array.from(live.itemIds, (_, i) => (entry(i)?.active ? 0 : 1)));
    const { include, filter } = this;
    const masked = Float32Array.from(scores);
    // topK skips NaN: items that are not in the catalogue or not active, then the filter's
    for (let i = 0; i < masked.length; i++) if (blocked[i]) masked[i] = NaN;
    if (include || filter?.attributes) {
      for (let i = 0; i < masked.length; i++) {
        const item = entry(i);
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
      const item = entry(i)!;
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
