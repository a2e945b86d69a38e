import { initBackend } from '../backend';
import { DaeModel } from '../dae.model';
import { rowsFromItemLists } from '../interaction-matrix';
import { ItemTerm } from '../item-term';
import { ItemIndex } from './item-index';
import { structuredModel } from './structured-model.fixture';

describe(`${ItemIndex.name} with an item term`, () => {
  const items = 8_000;
  const fixture = structuredModel(items, 24, 11);
  // every item lifts three far-away items strongly: the index, which knows the autoencoder's scores
  // alone, would not propose them
  const lifted = (i: number) => [(i * 7919 + 1) % items, (i * 104_729 + 2) % items, (i * 15_485_863 + 3) % items];
  const term = new ItemTerm(
    rowsFromItemLists(
      items,
      Array.from({ length: items }, (_, i) => lifted(i)),
      Array.from({ length: items }, () => [40, 40, 40]),
    ),
    { lambda: 1, dropout: 0, topK: 3, alpha: 1 },
  );
  let exact: DaeModel;
  let indexed: DaeModel;

  beforeAll(async () => {
    await initBackend();
    exact = new DaeModel(fixture.config, fixture.params, term);
    indexed = exact.withIndex(await ItemIndex.build(exact, { threads: 1 }));
  });
  afterAll(() => (exact.dispose(), indexed.dispose()));

  it("ranks the items the user's history lifts, folded in, with the exact scores of a decode", () => {
    const histories = Array.from({ length: 30 }, (_, u) => [u * 11, u * 11 + 5, u * 11 + 9]);
    const input = { rows: rowsFromItemLists(items, histories) };
    const rankings = histories.map((h) => ({ k: 50, exclude: h }));
    const want = exact.rank(input, rankings);
    const got = indexed.rank(input, rankings);
    got.forEach((row, u) => {
      // the lifted items lead the exact ranking; the index path finds every one of them
      const liftedItems = new Set(histories[u].flatMap(lifted).filter((i) => !histories[u].includes(i)));
      expect(liftedItems.size).toBeGreaterThan(0);
      liftedItems.forEach((i) => expect(Array.from(want[u].items.subarray(0, liftedItems.size))).toContain(i));
      expect(Array.from(row.items.subarray(0, liftedItems.size))).toEqual(
        Array.from(want[u].items.subarray(0, liftedItems.size)),
      );
      expect(Array.from(row.scores.subarray(0, liftedItems.size))).toEqual(
        Array.from(want[u].scores.subarray(0, liftedItems.size)),
      );
      // and no item of the history comes back
      histories[u].forEach((i) => expect(Array.from(row.items)).not.toContain(i));
    });
  });
});
