import { createRng } from '@app/random';
import { buildInteractionMatrix } from './interaction-matrix';
import { DaeModel } from './dae.model';
import { initParams } from './dae-config';
import { initBackend } from './backend';
import { boundedCandidates, rankColumns, rankedItems, rankUsers, topK, withSeenItems } from './score';

describe(topK.name, () => {
  const fullSort = (scores: Float32Array, k: number, exclude: Set<number>) =>
    Array.from(scores, (s, i) => ({ s, i }))
      .filter(({ i }) => !exclude.has(i))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, k)
      .map(({ i }) => i);

  it('matches a full sort with exclusions, ties to the lower index', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.int(300);
      // coarse scores so ties happen
      const scores = Float32Array.from({ length: n }, () => Math.round(rng.next() * 20));
      const exclude = new Set(Array.from({ length: rng.int(n) }, () => rng.int(n)));
      const k = 1 + rng.int(30);
      expect(Array.from(topK(scores, k, [...exclude]))).toEqual(fullSort(scores, k, exclude));
    }
  });

  it('returns fewer than k when the exclusions leave fewer items', () => {
    expect(Array.from(topK(Float32Array.from([1, 3, 2]), 5, [1]))).toEqual([2, 0]);
    expect(topK(Float32Array.from([1]), 0)).toHaveLength(0);
  });
});

describe(rankUsers.name, () => {
  it("equals each user's full decode, fully sorted, own items left out, across decode blocks", async () => {
    await initBackend();
    const config = {
      items: 40,
      hidden: [16],
      embeddingDim: 6,
      activation: 'tanh' as const,
      loss: 'multinomial' as const,
      input: 'binary' as const,
    };
    const model = new DaeModel(config, initParams(config, 4));
    const rng = createRng(8);
    const users = 9;
    const user: number[] = [];
    const item: number[] = [];
    for (let u = 0; u < users; u++) {
      for (let n = 0; n < 1 + rng.int(12); n++) {
        user.push(u);
        item.push(rng.int(config.items));
      }
    }
    const { matrix } = buildInteractionMatrix({
      user: Int32Array.from(user),
      item: Int32Array.from(item),
      userIds: Array.from({ length: users }, (_, u) => `u${u}`),
      itemIds: Array.from({ length: config.items }, (_, i) => `i${i}`),
    });
    const embeddings = model.encode(matrix);
    const scores = model.decode(embeddings, users);
    // a block of 2 users at a time: the ranking must not depend on where blocks split
    const ranked = rankUsers(model, embeddings, 5, matrix, 0, 2 * config.items);
    expect(ranked).toHaveLength(users);
    ranked.forEach((r, u) => {
      const own = new Set(matrix.indices.subarray(matrix.indptr[u], matrix.indptr[u + 1]));
      const reference = Array.from({ length: config.items }, (_, i) => i)
        .filter((i) => !own.has(i))
        .sort((a, b) => scores[u * config.items + b] - scores[u * config.items + a] || a - b)
        .slice(0, 5);
      expect(Array.from(r.items)).toEqual(reference);
      expect(Array.from(r.scores)).toEqual(reference.map((i) => scores[u * config.items + i]));
    });
    model.dispose();
  });
});

describe(withSeenItems.name, () => {
  /** Every item ranked by a full sort: score, then the lower index. */
  const fullRanking = (scores: Float32Array) =>
    Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);

  it('puts the seen items back where a full sort of every item has them, down to the end of the cut list', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 50; trial++) {
      const items = 200;
      // coarse scores: many ties, which go to the lower index
      const scores = Float32Array.from({ length: items }, () => Math.round(rng.next() * 40) / 4);
      const seen = Array.from(new Set(Array.from({ length: 1 + rng.int(30) }, () => rng.int(items))));
      const depth = 20;
      const top = rankedItems(scores, depth, seen);
      const merged = withSeenItems(
        top,
        depth,
        seen,
        seen.map((i) => scores[i]),
      );
      expect(merged.complete).toBe(false);
      const want = fullRanking(scores);
      // exact down to the unseen list's last item, which ends it
      expect(Array.from(merged.items)).toEqual(want.slice(0, merged.items.length));
      expect(merged.items[merged.items.length - 1]).toBe(top.items[depth - 1]);
      expect(Array.from(merged.scores)).toEqual(Array.from(merged.items, (i) => scores[i]));
    }
  });

  it('ranks every item when the unseen list was shorter than its depth (nothing was cut)', () => {
    const scores = Float32Array.from([0.5, 3, -1, 2, 2, 0]);
    const seen = [1, 4, 5];
    const top = rankedItems(scores, 10, seen);
    const merged = withSeenItems(
      top,
      10,
      seen,
      seen.map((i) => scores[i]),
    );
    expect(merged.complete).toBe(true);
    expect(Array.from(merged.items)).toEqual(fullRanking(scores));
  });
});

describe(rankColumns.name, () => {
  it('ranks each column of an items-major block as rankedItems ranks it as a row: ties, NaN, exclusions, any k', () => {
    const rng = createRng(13);
    for (const items of [300, 20_000]) {
      // columns of every kind side by side, as a batch of requests is
      const columns: Float32Array[] = [
        Float32Array.from({ length: items }, () => rng.next()),
        // few distinct values: the threshold falls inside a long run of ties
        Float32Array.from({ length: items }, () => Math.round(rng.next() * 50)),
        // rising: the strided sample misses the best items between its picks
        Float32Array.from({ length: items }, (_, i) => i),
        new Float32Array(items).fill(1),
        // mostly masked: too few pass any threshold, the column is ranked whole
        Float32Array.from({ length: items }, (_, i) => (i % 97 === 0 ? rng.next() : NaN)),
      ];
      for (const k of [0, 1, 20, 120, 500]) {
        const rankings = columns.map((col) => {
          // the column's best items excluded, so the candidates must reach past them
          const best = rankedItems(col, 30).items;
          return { k, exclude: [...Array.from(best).slice(0, 25), rng.int(items)] };
        });
        const block = new Float32Array(items * columns.length);
        columns.forEach((col, r) => col.forEach((v, i) => (block[i * columns.length + r] = v)));
        const ranked = rankColumns(block, items, rankings);
        columns.forEach((col, r) => {
          const want = rankedItems(col, k, rankings[r].exclude);
          expect([items, k, r, Array.from(ranked[r].items)]).toEqual([items, k, r, Array.from(want.items)]);
          expect(Array.from(ranked[r].scores)).toEqual(Array.from(want.scores));
        });
      }
    }
  });
});

describe(boundedCandidates.name, () => {
  const rng = createRng(5);
  const row = Float32Array.from({ length: 5000 }, () => rng.normal());
  const exclude = Array.from({ length: 40 }, () => rng.int(row.length));
  /** What it must equal: every kept item within twice the margin of the k-th best, the best `cap` of them, best first. */
  const bySorting = (k: number, margin: number, cap: number) => {
    const ranked = Array.from(topK(row, row.length, exclude));
    const floor = row[ranked[k - 1]] - 2 * margin;
    return ranked.filter((i) => row[i] >= floor).slice(0, Math.max(k, cap));
  };

  it.each([
    ['a narrow margin: fewer than the cap', 0.02, (n: number) => n > 20 && n < 80],
    ['a wide margin: the cap', 1, (n: number) => n === 80],
  ])('keeps the items that may reach the top k, best first, at most the cap (%s)', (_, margin, size) => {
    const got = Array.from(boundedCandidates(row, { k: 20, exclude }, margin, 80));
    expect(got).toEqual(bySorting(20, margin, 80));
    expect(size(got.length)).toBe(true);
    expect(got.some((i) => exclude.includes(i))).toBe(false);
  });

  it('gives what there is when fewer than k are left, and nothing for k = 0', () => {
    const few = Float32Array.of(3, 1, 2);
    expect(Array.from(boundedCandidates(few, { k: 5, exclude: [1] }, 0.1, 20))).toEqual([0, 2]);
    expect(boundedCandidates(few, { k: 0, exclude: [] }, 0.1, 20)).toHaveLength(0);
  });
});
