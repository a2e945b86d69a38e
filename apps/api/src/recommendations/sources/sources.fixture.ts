import { CatalogueItem } from '@app/database';
import { DaeModel, initBackend, initParams, ItemTerm, ScoringPool, serializeModel } from '@app/model';
import { createRng } from '@app/random';
import { Catalogue } from '../catalogue.service';
import { LiveModel } from '../live-model.service';
import { CandidateRules } from './candidates';
import { Ask, AskOptions, Subject } from './source';

/** The sources' specs: a small served model, a catalogue of its items, asks as the service makes them, brute-force rankings. */

export const FIXTURE_ITEMS = 40;
const ITEM_IDS = Array.from({ length: FIXTURE_ITEMS }, (_, i) => `i${i}`);

/**
 * A model of FIXTURE_ITEMS items (`i0`...) with an item term large enough to reorder its
 * rankings, so that a path that forgets a user's history gives other items; scored on the calling
 * thread (a pool of no threads), as the API's threads score it.
 */
export async function fixtureLiveModel(fields: Partial<Pick<LiveModel, 'version' | 'topItems' | 'similarItems' | 'watermark'>> = {}): Promise<LiveModel> {
  await initBackend();
  const config = { items: FIXTURE_ITEMS, hidden: [16], embeddingDim: 6, activation: 'tanh' as const, loss: 'multinomial' as const, input: 'binary' as const };
  const rng = createRng(11);
  const perRow = 8;
  const indptr = Int32Array.from({ length: FIXTURE_ITEMS + 1 }, (_, i) => i * perRow);
  const indices = Int32Array.from({ length: FIXTURE_ITEMS * perRow }, (_, q) => ((q % perRow) * 5 + Math.floor(q / perRow)) % FIXTURE_ITEMS);
  for (let i = 0; i < FIXTURE_ITEMS; i++) indices.subarray(i * perRow, (i + 1) * perRow).sort();
  const values = Float32Array.from(indices, () => (rng.next() - 0.5) * 4);
  const term = new ItemTerm({ rows: FIXTURE_ITEMS, cols: FIXTURE_ITEMS, indptr, indices, values }, { lambda: 1, dropout: 0, topK: perRow, alpha: 1 });
  const model = new DaeModel(config, initParams(config, 5), term);
  const scoring = await ScoringPool.start(model, serializeModel(model, { itemIds: ITEM_IDS }), { threads: 0 });
  return {
    version: 1,
    model,
    scoring,
    itemIds: ITEM_IDS,
    itemIndex: new Map(ITEM_IDS.map((id, i) => [id, i])),
    watermark: null,
    topItems: 10,
    similarItems: 10,
    ...fields,
  };
}

export async function closeLiveModel(live: LiveModel): Promise<void> {
  await live.scoring.close();
  live.model.dispose();
}

/** The model's items, all active, `i0` the most popular; `changes` by id. */
export function fixtureCatalogue(changes: Record<string, Partial<CatalogueItem>> = {}): Catalogue {
  const all = ITEM_IDS.map((id, i) => ({ id, attributes: { even: i % 2 === 0 }, active: true, interactions: FIXTURE_ITEMS - i, ...changes[id] }));
  all.sort((a, b) => b.interactions - a.interactions);
  return { byId: new Map(all.map((i) => [i.id, i])), popular: all.filter((i) => i.active), loadedAt: 0, fingerprint: null, checkedAt: 0 };
}

/** An ask as the service makes it. */
export function fixtureAsk<S extends Subject>(live: LiveModel | null, catalogue: Catalogue, subject: S, options: Partial<AskOptions> = {}): Ask<S> {
  return {
    answerId: 'answer-1',
    subject,
    limit: options.limit ?? 5,
    requestedVersion: null,
    live,
    candidates: new CandidateRules().of(live, catalogue, options.filter, options.exclude),
  };
}

/** Brute force: a vector's full decode, the item term's from `history`, every item but `exclude` by score, a full sort. */
export function bruteForce(live: LiveModel, vector: Float32Array, history: readonly number[] | null, exclude: readonly number[] = []): { id: string; score: number }[] {
  const scores = live.model.decode(vector, 1, undefined, 'users', history ? [history] : undefined);
  return Array.from(scores, (score, i) => ({ id: live.itemIds[i], score, i }))
    .filter(({ i }) => !exclude.includes(i))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map(({ id, score }) => ({ id, score }));
}

/** The ids and scores of an answer's items. */
export const idsOf = (items: readonly { item: { id: string } }[]) => items.map((i) => i.item.id);
