import { Injectable, Logger } from '@nestjs/common';
import { CatalogueItem, CatalogueRepository, ItemAttributes } from '@app/database';

export interface Catalogue {
  byId: ReadonlyMap<string, CatalogueItem>;
  /** Active items, most interacted-with first: the cold-start answer. */
  popular: readonly CatalogueItem[];
  loadedAt: number;
}

/** How old the in-memory catalogue may get before a background refresh. */
const CATALOGUE_TTL_MS = 30_000;

/** Item attributes, active flags and popularity, held in memory and refreshed in the background. */
@Injectable()
export class CatalogueService {
  private readonly logger = new Logger(CatalogueService.name);
  private snapshot: Catalogue | null = null;
  private loading: Promise<Catalogue> | null = null;
  private dirty = false;

  constructor(private readonly items: CatalogueRepository) {}

  /** The catalogue; a stale one is answered at once while a fresh one loads. */
  async get(): Promise<Catalogue> {
    if (!this.snapshot || this.dirty) return this.reload();
    if (Date.now() - this.snapshot.loadedAt > CATALOGUE_TTL_MS) void this.reload().catch((err) => this.logger.warn(`catalogue refresh failed: ${(err as Error).message}`));
    return this.snapshot;
  }

  /** After items change (upsertItems): the next request waits for a fresh catalogue. */
  invalidate(): void {
    this.dirty = true;
  }

  private reload(): Promise<Catalogue> {
    // a load under way may predate the change: start another
    if (this.dirty) this.loading = null;
    this.dirty = false;
    this.loading ??= this.items
      .all()
      .then((all) => {
        this.snapshot = { byId: new Map(all.map((i) => [i.id, i])), popular: all.filter((i) => i.active), loadedAt: Date.now() };
        return this.snapshot;
      })
      .finally(() => (this.loading = null));
    return this.loading;
  }
}

/** Attribute equality: every given key must equal the item's value. */
export function matchesAttributes(attributes: ItemAttributes, wanted: ItemAttributes): boolean {
  for (const [key, value] of Object.entries(wanted)) {
    if (JSON.stringify(attributes[key]) !== JSON.stringify(value)) return false;
  }
  return true;
}
