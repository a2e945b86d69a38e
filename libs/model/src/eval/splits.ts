import { createRng, shuffleInPlace } from '@app/random';
import { buildCsr, CsrMatrix, IdIndex, rowLength } from '../interaction-matrix';

/** Interactions with external ids, as read from a file (after --min-rating). */
export interface LabeledInteractions {
  users: IdIndex;
  items: IdIndex;
  user: Int32Array;
  item: Int32Array;
  weight: Float32Array;
}

/** Score from `input` row r, find `heldOut` row r; rows are `userIds`. */
export interface HeldOutSet {
  input: CsrMatrix;
  heldOut: CsrMatrix;
  userIds: string[];
}

export interface EvaluationSplit {
  /** Training rows (users x items). */
  train: CsrMatrix;
  trainUserIds: string[];
  /** External id per column. */
  itemIds: string[];
  validation: HeldOutSet | null;
  test: HeldOutSet;
}

/**
 * Iteratively drops users with fewer than minUser and items with fewer than minItem interactions
 * until both hold (k-core); minItem 0 filters users only. Returns a re-indexed copy.
 */
export function filterCore(data: LabeledInteractions, minUser: number, minItem: number): LabeledInteractions {
  let keep = new Uint8Array(data.user.length).fill(1);
  for (;;) {
    const userCount = new Int32Array(data.users.size);
    const itemCount = new Int32Array(data.items.size);
    for (let k = 0; k < keep.length; k++) {
      if (!keep[k]) continue;
      userCount[data.user[k]]++;
      itemCount[data.item[k]]++;
    }
    let dropped = 0;
    const next = keep.slice();
    for (let k = 0; k < keep.length; k++) {
      if (keep[k] && (userCount[data.user[k]] < minUser || itemCount[data.item[k]] < minItem)) {
        next[k] = 0;
        dropped++;
      }
    }
    keep = next;
    if (dropped === 0) break;
  }
  const users = new IdIndex();
  const items = new IdIndex();
  const user: number[] = [],
    item: number[] = [],
    weight: number[] = [];
  for (let k = 0; k < keep.length; k++) {
    if (!keep[k]) continue;
    user.push(users.intern(data.users.idAt(data.user[k])));
    item.push(items.intern(data.items.idAt(data.item[k])));
    weight.push(data.weight[k]);
  }
  return { users, items, user: Int32Array.from(user), item: Int32Array.from(item), weight: Float32Array.from(weight) };
}

export interface StrongSplitOptions {
  /** Share of users held out for validation, and the same share for test. */
  heldOutUsers: number;
  /** Share of a held-out user's items given to the model (fold-in); the rest is scored. */
  foldIn: number;
}

/** Liang et al.'s held-out users need at least this many items to lend some to scoring. */
export const MIN_ITEMS_TO_SCORE = 5;

/**
 * Strong generalisation (Liang et al. 2018): validation and test users are unseen in training.
 * Items are those of the training users; held-out users' other items are dropped, as in the paper.
 */
export function strongGeneralizationSplit(
  data: LabeledInteractions,
  seed: number,
  opts: StrongSplitOptions,
): EvaluationSplit {
  const rng = createRng(seed);
  const perm = shuffleInPlace(
    Int32Array.from({ length: data.users.size }, (_, u) => u),
    rng,
  );
  const nHeld = Math.round(opts.heldOutUsers * data.users.size);
  const role = new Uint8Array(data.users.size); // 0 train, 1 validation, 2 test
  perm.subarray(0, nHeld).forEach((u) => (role[u] = 2));
  perm.subarray(nHeld, 2 * nHeld).forEach((u) => (role[u] = 1));

  const byUser = groupByUser(data);
  const cols = new IdIndex();
  const trainUsers = new IdIndex();
  const trainTriples: Triples = newTriples();
  for (let u = 0; u < data.users.size; u++) {
    if (role[u] !== 0) continue;
    const r = trainUsers.intern(data.users.idAt(u));
    for (const k of byUser[u]) pushTriple(trainTriples, r, cols.intern(data.items.idAt(data.item[k])), data.weight[k]);
  }
  const heldOut = (which: number): HeldOutSet => {
    const ids = new IdIndex();
    const input = newTriples();
    const held = newTriples();
    for (let u = 0; u < data.users.size; u++) {
      if (role[u] !== which) continue;
      const known = byUser[u].filter((k) => cols.indexOf(data.items.idAt(data.item[k])) !== undefined);
      if (known.length === 0) continue;
      const r = ids.intern(data.users.idAt(u));
      const order = shuffleInPlace(Int32Array.from(known), rng);
      const nScore = known.length >= MIN_ITEMS_TO_SCORE ? Math.round((1 - opts.foldIn) * known.length) : 0;
      order.forEach((k, j) =>
        pushTriple(j < nScore ? held : input, r, cols.indexOf(data.items.idAt(data.item[k]))!, data.weight[k]),
      );
    }
    return {
      input: toCsr(input, ids.size, cols.size),
      heldOut: toCsr(held, ids.size, cols.size),
      userIds: [...ids.ids()],
    };
  };
  const validation = heldOut(1);
  const test = heldOut(2);
  return {
    train: toCsr(trainTriples, trainUsers.size, cols.size),
    trainUserIds: [...trainUsers.ids()],
    itemIds: [...cols.ids()],
    validation,
    test,
  };
}

/**
 * Per-user random split (RecBole "RO", Microsoft Recommenders' python_random_split per user):
 * each user's interactions are shuffled and cut by `fractions` = [train, validation, test].
 * Test rows score from train + validation items; validation rows from train items. All items stay.
 */
export function userRandomSplit(
  data: LabeledInteractions,
  seed: number,
  fractions: [number, number, number],
): EvaluationSplit {
  const total = fractions[0] + fractions[1] + fractions[2];
  const [fTrain, fVal] = [fractions[0] / total, fractions[1] / total];
  const rng = createRng(seed);
  const byUser = groupByUser(data);
  const train = newTriples();
  const val = newTriples();
  const test = newTriples();
  for (let u = 0; u < data.users.size; u++) {
    const order = shuffleInPlace(Int32Array.from(byUser[u]), rng);
    const n = order.length;
    const nTrain = Math.round(n * fTrain);
    const nVal = Math.round(n * (fTrain + fVal)) - nTrain;
    order.forEach((k, j) =>
      pushTriple(j < nTrain ? train : j < nTrain + nVal ? val : test, u, data.item[k], data.weight[k]),
    );
  }
  const rows = data.users.size;
  const cols = data.items.size;
  const trainCsr = toCsr(train, rows, cols);
  const userIds = [...data.users.ids()];
  const trainPlusVal: Triples = { r: [...train.r, ...val.r], c: [...train.c, ...val.c], v: [...train.v, ...val.v] };
  return {
    train: trainCsr,
    trainUserIds: userIds,
    itemIds: [...data.items.ids()],
    validation: fVal > 0 ? { input: trainCsr, heldOut: toCsr(val, rows, cols), userIds } : null,
    test: { input: toCsr(trainPlusVal, rows, cols), heldOut: toCsr(test, rows, cols), userIds },
  };
}

/** Rows of a held-out set that have something to find. */
export function scoredUsers(set: HeldOutSet): number {
  let n = 0;
  for (let r = 0; r < set.heldOut.rows; r++) if (rowLength(set.heldOut, r) > 0) n++;
  return n;
}

/** COO entries collected row by row, then one CSR matrix (toCsr). */
export interface Triples {
  r: number[];
  c: number[];
  v: number[];
}

export function newTriples(): Triples {
  return { r: [], c: [], v: [] };
}

export function pushTriple(t: Triples, r: number, c: number, v: number): void {
  t.r.push(r);
  t.c.push(c);
  t.v.push(v);
}

export function toCsr(t: Triples, rows: number, cols: number): CsrMatrix {
  return buildCsr(rows, cols, Int32Array.from(t.r), Int32Array.from(t.c), Float32Array.from(t.v), 'max');
}

function groupByUser(data: LabeledInteractions): number[][] {
  const out: number[][] = Array.from({ length: data.users.size }, () => []);
  for (let k = 0; k < data.user.length; k++) out[data.user[k]].push(k);
  return out;
}

/** The entries whose value `keep` accepts, same shape (e.g. a rating file's positives, or its negatives). */
export function filterValues(m: CsrMatrix, keep: (value: number) => boolean): CsrMatrix {
  const indptr = new Int32Array(m.rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    for (let q = m.indptr[r]; q < m.indptr[r + 1]; q++) {
      if (!keep(m.values[q])) continue;
      indices.push(m.indices[q]);
      values.push(m.values[q]);
    }
    indptr[r + 1] = indices.length;
  }
  return { rows: m.rows, cols: m.cols, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}
