import { Injectable, Logger } from '@nestjs/common';
import { EnvVars } from '@app/config';
import { CatalogueItem, CatalogueRepository, ItemAttributes } from '@app/database';
import { inputSettingsOf, retentionStart } from '@app/feedback';

export interface Catalogue {
  byId: ReadonlyMap<string, CatalogueItem>;
  /** Active items, most interacted-with first: the cold-start answer. */
  popular: readonly CatalogueItem[];
  loadedAt: number;
  /** The store's fingerprint when loaded: a refresh that finds it unchanged keeps this snapshot. */
  fingerprint: string | null;
  /** When it was last seen to match the store. */
  checkedAt: number;
}

/** How old the in-memory catalogue may get before a background refresh. */
export const CATALOGUE_TTL_MS = 30_000;
/**
 * Reloaded at least this often even when the fingerprint says nothing changed (a statistics
 * reset or track_counts off could hide a change from it).
 */
export const CATALOGUE_MAX_AGE_MS = 10 * 60_000;

/** Item attributes, active flags and popularity, held in memory and refreshed in the background. */
@Injectable()
export class CatalogueService {
  private readonly logger = new Logger(CatalogueService.name);
  private snapshot: Catalogue | null = null;
  private loading: Promise<Catalogue> | null = null;
  private checking = false;
  private dirty = false;

  constructor(
    private readonly items: CatalogueRepository,
    /** Its FEEDBACK_RETENTION_DAYS bounds a live count of popularity (none: all events). */
    private readonly env?: EnvVars,
  ) {}

  /** The catalogue; a stale one is answered at once while a fresh one loads. */
  async get(): Promise<Catalogue> {
    if (!this.snapshot || this.dirty) return this.reload();
    if (Date.now() - this.snapshot.checkedAt > CATALOGUE_TTL_MS && !this.checking) {
      this.checking = true;
      void this.refresh(this.snapshot)
        .catch((err) => this.logger.warn(`catalogue refresh failed: ${(err as Error).message}`))
        .finally(() => (this.checking = false));
    }
    return this.snapshot;
  }

  /**
   * Reloads only what changed: reading 20k items blocks the request thread for 15-40 ms, a stall
   * every request in flight waits out (200k items: ten times that).
   */
  private async refresh(snapshot: Catalogue): Promise<void> {
    const fingerprint = await this.items.fingerprint();
    const young = Date.now() - snapshot.loadedAt < CATALOGUE_MAX_AGE_MS;
    if (young && fingerprint !== null && fingerprint === snapshot.fingerprint && this.snapshot === snapshot)
      snapshot.checkedAt = Date.now();
    else await this.reload(fingerprint);
  }

  /** After items change (upsertItems): the next request waits for a fresh catalogue. */
  invalidate(): void {
    this.dirty = true;
  }

  /** `known`: the fingerprint a refresh has just read, so it is not read twice. */
  private reload(known?: string | null): Promise<Catalogue> {
    // a load under way may predate the change: start another
    if (this.dirty) this.loading = null;
    this.dirty = false;
    // the fingerprint first: a change between the two reads makes the next refresh load again
    this.loading ??= (known !== undefined ? Promise.resolve(known) : this.items.fingerprint())
      .then(async (fingerprint) => {
        // counted live (no training or recount has stored counts yet): POSITIVE events within the
        // retention window only, as a training and the recount count them
        const since = this.env ? retentionStart(Date.now(), inputSettingsOf(this.env)) : null;
        // built a chunk at a time, the request thread serving between chunks (bench:catalogue: at
        // 1M items, one Map built at once blocked it for over a second); the old snapshot serves meanwhile
        const byId = new Map<string, CatalogueItem>();
        const popular: CatalogueItem[] = [];
        await this.items.all(fingerprint !== null, since, async (rows) => {
          for (const item of rows) {
            byId.set(item.id, item);
            if (item.active) popular.push(item);
          }
          await new Promise(setImmediate);
        });
        const now = Date.now();
        this.snapshot = {
          byId,
          popular,
          loadedAt: now,
          fingerprint,
          checkedAt: now,
        };
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
