/**
 * Sparse user x item matrices in CSR form, with maps between external ids and dense indexes.
 * Memory is proportional to the number of interactions: no dense users x items matrix, ever.
 */
export interface CsrMatrix {
  rows: number;
  cols: number;
  /** rows + 1 offsets into indices/values. */
  indptr: Int32Array;
  /** Column indexes, ascending within each row. */
  indices: Int32Array;
  values: Float32Array;
}

/** How to combine repeated (row, col) pairs, e.g. a view then a purchase of the same item. */
export type DuplicatePolicy = 'sum' | 'max' | 'last';

/** External id <-> dense index, in first-seen order. */
export class IdIndex {
  private readonly byId = new Map<string, number>();
  private readonly list: string[] = [];

  static from(ids: Iterable<string>): IdIndex {
    const index = new IdIndex();
    for (const id of ids) index.intern(id);
    return index;
  }

  get size(): number {
    return this.list.length;
  }

  /** The id's index, adding it if new. */
  intern(id: string): number {
    const found = this.byId.get(id);
    if (found !== undefined) return found;
    this.byId.set(id, this.list.length);
    this.list.push(id);
    return this.list.length - 1;
  }

  indexOf(id: string): number | undefined {
    return this.byId.get(id);
  }

  idAt(index: number): string {
    const id = this.list[index];
    if (id === undefined) throw new RangeError(`index ${index} is outside 0..${this.list.length - 1}`);
    return id;
  }

  ids(): readonly string[] {
    return this.list;
  }
}

/** Builds a CSR matrix from parallel (row, col, value) arrays in any order. */
export function buildCsr(
  rows: number,
  cols: number,
  rowIdx: Int32Array,
  colIdx: Int32Array,
  values?: Float32Array,
  duplicates: DuplicatePolicy = 'sum',
): CsrMatrix {
  const n = rowIdx.length;
  if (colIdx.length !== n || (values && values.length !== n))
    throw new RangeError('row, col and value arrays differ in length');
  const counts = new Int32Array(rows + 1);
  for (let k = 0; k < n; k++) {
    const r = rowIdx[k];
    const c = colIdx[k];
    if (r < 0 || r >= rows || c < 0 || c >= cols)
      throw new RangeError(`entry ${k} (${r}, ${c}) is outside ${rows} x ${cols}`);
    counts[r + 1]++;
  }
  for (let r = 0; r < rows; r++) counts[r + 1] += counts[r];
  // counting sort by row, then sort each row's columns
  const next = counts.slice(0, rows);
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[next[rowIdx[k]]++] = k;

  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(n);
  const vals = new Float32Array(n);
  let out = 0;
  for (let r = 0; r < rows; r++) {
    const slice = order.subarray(counts[r], counts[r + 1]);
    slice.sort((a, b) => colIdx[a] - colIdx[b] || a - b); // stable: "last" means last in input order
    let prevCol = -1;
    for (const k of slice) {
      const c = colIdx[k];
      const v = values ? values[k] : 1;
      if (c === prevCol) {
        const at = out - 1;
        vals[at] = duplicates === 'sum' ? vals[at] + v : duplicates === 'max' ? Math.max(vals[at], v) : v;
        continue;
      }
      indices[out] = c;
      vals[out] = v;
      out++;
      prevCol = c;
    }
    indptr[r + 1] = out;
  }
  return { rows, cols, indptr, indices: indices.slice(0, out), values: vals.slice(0, out) };
}

/** A CSR matrix together with the ids of its rows (users) and columns (items). */
export interface InteractionMatrix {
  matrix: CsrMatrix;
  users: IdIndex;
  items: IdIndex;
}

export interface TypedInteractions {
  /** Dense user index per interaction (into userIds when given). */
  user: Int32Array;
  item: Int32Array;
  weight?: Float32Array;
  userIds?: readonly string[];
  itemIds?: readonly string[];
  duplicates?: DuplicatePolicy;
}

/**
 * The training pipeline's entry point: typed arrays from the database (or synthetic data) to CSR.
 * Without id lists, ids are the indexes as strings and the sizes are max index + 1.
 */
export function buildInteractionMatrix(data: TypedInteractions): InteractionMatrix {
  const rows = data.userIds?.length ?? maxPlusOne(data.user);
  const cols = data.itemIds?.length ?? maxPlusOne(data.item);
  const users = IdIndex.from(data.userIds ?? range(rows));
  const items = IdIndex.from(data.itemIds ?? range(cols));
  if (users.size !== rows || items.size !== cols) throw new RangeError('user or item ids are not unique');
  return { matrix: buildCsr(rows, cols, data.user, data.item, data.weight, data.duplicates), users, items };
}

/** The rows at the given indexes, in that order, as a new CSR matrix. */
export function selectRows(m: CsrMatrix, rowIndexes: ArrayLike<number>): CsrMatrix {
  const n = rowIndexes.length;
  const indptr = new Int32Array(n + 1);
  for (let k = 0; k < n; k++) {
    const r = rowIndexes[k];
    indptr[k + 1] = indptr[k] + m.indptr[r + 1] - m.indptr[r];
  }
  const indices = new Int32Array(indptr[n]);
  const values = new Float32Array(indptr[n]);
  for (let k = 0; k < n; k++) {
    const r = rowIndexes[k];
    indices.set(m.indices.subarray(m.indptr[r], m.indptr[r + 1]), indptr[k]);
    values.set(m.values.subarray(m.indptr[r], m.indptr[r + 1]), indptr[k]);
  }
  return { rows: n, cols: m.cols, indptr, indices, values };
}

/** CSR rows from lists of item indexes (serving: a user's current items), values 1 unless given. */
export function rowsFromItemLists(
  cols: number,
  itemLists: readonly (readonly number[])[],
  weights?: readonly (readonly number[])[],
): CsrMatrix {
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  const vals: number[] = [];
  itemLists.forEach((items, r) => {
    items.forEach((c, k) => {
      rowIdx.push(r);
      colIdx.push(c);
      vals.push(weights ? weights[r][k] : 1);
    });
  });
  return buildCsr(
    itemLists.length,
    cols,
    Int32Array.from(rowIdx),
    Int32Array.from(colIdx),
    Float32Array.from(vals),
    'max',
  );
}

/** The transpose (item x user), e.g. for column access. */
export function transposeCsr(m: CsrMatrix): CsrMatrix {
  const rowIdx = new Int32Array(m.indices.length);
  for (let r = 0; r < m.rows; r++) rowIdx.fill(r, m.indptr[r], m.indptr[r + 1]);
  return buildCsr(m.cols, m.rows, m.indices, rowIdx, m.values);
}

export function rowLength(m: CsrMatrix, r: number): number {
  return m.indptr[r + 1] - m.indptr[r];
}

function maxPlusOne(a: Int32Array): number {
  let max = -1;
  for (let k = 0; k < a.length; k++) if (a[k] > max) max = a[k];
  return max + 1;
}

function range(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i));
}

/** Rows [start, end) as a CSR view (no copy of the nonzeros). */
export function sliceRows(m: CsrMatrix, start: number, end: number): CsrMatrix {
  const base = m.indptr[start];
  const indptr = new Int32Array(end - start + 1);
  for (let r = start; r <= end; r++) indptr[r - start] = m.indptr[r] - base;
  return {
    rows: end - start,
    cols: m.cols,
    indptr,
    indices: m.indices.subarray(base, m.indptr[end]),
    values: m.values.subarray(base, m.indptr[end]),
  };
}
