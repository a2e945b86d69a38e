import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../backend';
import { DaeModel } from '../dae.model';
import { serializeModel } from '../serialize';
import { ScoringPool } from '../serving/scoring-pool';
import { ItemIndex } from './item-index';
import { structuredModel } from './structured-model.fixture';

describe(`${ScoringPool.name} with an item index`, () => {
  const items = 6_000;
  const width = 16;
  const fixture = structuredModel(items, width, 3);
  const users = fixture.users(12);
  let model: DaeModel;
  let dir: string;

  beforeAll(async () => {
    await initBackend();
    model = new DaeModel(fixture.config, fixture.params);
    dir = mkdtempSync(join(tmpdir(), 'pool-index-'));
    // the index of another model of the same shape: its candidates are not this model's best,
    // so an answer taken from it shows, where the exact ranking would not
    const other = structuredModel(items, width, 4);
    const stranger = new DaeModel(other.config, other.params);
    (await ItemIndex.build(stranger, { threads: 1 })).save(dir);
    stranger.dispose();
  });
  afterAll(() => {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([0, 1])('ranks through the index its threads view (%i threads)', async (threads) => {
    const blob = serializeModel(model, { itemIds: Array.from({ length: items }, (_, i) => `i${i}`) });
    const pool = await ScoringPool.start(model, blob, { threads, indexDir: dir });
    const local = model.withIndex(ItemIndex.view(dir));
    try {
      const ranking = { k: 20, exclude: [] };
      const rows = Array.from({ length: users.length / width }, (_, u) => users.slice(u * width, (u + 1) * width));
      const [decoded, similar] = await Promise.all([
        Promise.all(rows.map((e) => pool.decode(e, ranking))),
        Promise.all([0, 17, 4_000].map((i) => pool.similar(i, ranking))),
      ]);
      const exact = model.rank(
        { embeddings: users },
        rows.map(() => ranking),
      );
      const fromIndex = local.rank(
        { embeddings: users },
        rows.map(() => ranking),
      );
      decoded.forEach((row, u) => {
        expect(Array.from(row.items)).toEqual(Array.from(fromIndex[u].items));
        expect(Array.from(row.scores)).toEqual(Array.from(fromIndex[u].scores));
      });
      expect(decoded.some((row, u) => row.items.join() !== exact[u].items.join())).toBe(true);
      const similarFromIndex = local.rankSimilar([0, 17, 4_000], [ranking, ranking, ranking]);
      similar.forEach((row, n) => expect(Array.from(row.items)).toEqual(Array.from(similarFromIndex[n].items)));
    } finally {
      await pool.close();
      local.dispose();
    }
  });
});
