import { createRng } from '@app/random';
import { AliasTable, generateSynthetic, withEveryItem } from './generate-synthetic';

describe(generateSynthetic.name, () => {
  const opts = { users: 300, items: 500, seed: 42, perUser: 30 };

  it('is reproducible for a seed and different for another', () => {
    const a = generateSynthetic(opts);
    const b = generateSynthetic(opts);
    const c = generateSynthetic({ ...opts, seed: 43 });
    expect(Buffer.from(a.item.buffer).equals(Buffer.from(b.item.buffer))).toBe(true);
    expect(Buffer.from(a.item.buffer).equals(Buffer.from(c.item.buffer))).toBe(false);
  });

  it('gives every user at least minPerUser distinct items, about perUser on average', () => {
    const data = generateSynthetic(opts);
    const perUser = new Map<number, Set<number>>();
    for (let k = 0; k < data.user.length; k++) {
      const set = perUser.get(data.user[k]) ?? new Set();
      expect(set.has(data.item[k])).toBe(false);
      set.add(data.item[k]);
      perUser.set(data.user[k], set);
    }
    expect(perUser.size).toBe(opts.users);
    for (const set of perUser.values()) expect(set.size).toBeGreaterThanOrEqual(5);
    const mean = data.user.length / opts.users;
    expect(mean).toBeGreaterThan(20);
    expect(mean).toBeLessThan(40);
  });

  it('has latent structure: users of one cluster share far more items than users of different clusters', () => {
    const data = generateSynthetic({ ...opts, users: 600, clusters: 6 });
    const sets: Set<number>[] = Array.from({ length: 600 }, () => new Set());
    for (let k = 0; k < data.user.length; k++) sets[data.user[k]].add(data.item[k]);
    const jaccard = (a: Set<number>, b: Set<number>) => {
      let inter = 0;
      for (const x of a) if (b.has(x)) inter++;
      return inter / (a.size + b.size - inter);
    };
    let same = 0,
      sameN = 0,
      diff = 0,
      diffN = 0;
    for (let u = 0; u < 200; u++) {
      for (let v = u + 1; v < 200; v++) {
        const sim = jaccard(sets[u], sets[v]);
        const p = data.primaryCluster;
        const s = data.secondaryCluster;
        const disjoint = p[u] !== p[v] && p[u] !== s[v] && s[u] !== p[v] && s[u] !== s[v];
        if (p[u] === p[v]) {
          same += sim;
          sameN++;
        } else if (disjoint) {
          diff += sim;
          diffN++;
        }
      }
    }
    expect(same / sameN).toBeGreaterThan(2 * (diff / diffN));
  });

  it('has power-law popularity: the top 10% of items take a large share of interactions', () => {
    const data = generateSynthetic({ ...opts, users: 1000 });
    const counts = new Array<number>(opts.items).fill(0);
    for (const i of data.item) counts[i]++;
    counts.sort((a, b) => b - a);
    const top = counts.slice(0, opts.items / 10).reduce((a, b) => a + b, 0);
    expect(top / data.item.length).toBeGreaterThan(0.3);
  });
});

describe(AliasTable.name, () => {
  it('draws each outcome with its weight', () => {
    const table = new AliasTable(Float64Array.from([1, 2, 7]));
    const rng = createRng(5);
    const hits = [0, 0, 0];
    for (let i = 0; i < 100_000; i++) hits[table.sample(rng)]++;
    expect(hits[0] / 1e5).toBeCloseTo(0.1, 1);
    expect(hits[1] / 1e5).toBeCloseTo(0.2, 1);
    expect(hits[2] / 1e5).toBeCloseTo(0.7, 1);
  });
});

describe(withEveryItem.name, () => {
  it('adds one interaction for each item nobody drew, keeping every row drawn and no pair twice', () => {
    // a long tail over few draws: many items undrawn
    const data = generateSynthetic({ users: 50, items: 2000, seed: 3, perUser: 10 });
    const undrawn = 2000 - new Set(data.item).size;
    expect(undrawn).toBeGreaterThan(100);

    const covered = withEveryItem(data, 1);

    expect(new Set(covered.item).size).toBe(2000);
    expect(covered.item.length).toBe(data.item.length + undrawn);
    expect(Array.from(covered.item.subarray(0, data.item.length))).toEqual(Array.from(data.item));
    expect(Array.from(covered.user.subarray(0, data.user.length))).toEqual(Array.from(data.user));
    const pairs = new Set(Array.from(covered.user, (u, k) => `${u}:${covered.item[k]}`));
    expect(pairs.size).toBe(covered.item.length);
    for (const u of covered.user.subarray(data.user.length)) expect(u).toBeLessThan(50);
  });
});
