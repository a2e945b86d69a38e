import { DaeModel } from './dae.model';
import { DaeConfig, layerSizes } from './dae-config';
import { ItemTerm, ItemTermInfo } from './item-term';

/**
 * One binary blob per trained model (the training job stores it in Postgres):
 *   magic "RCDAE001" | uint32 LE header length | header JSON (utf8) | zero padding to 4 bytes |
 *   float32 LE parameters, layer by layer: weights (in x out, row-major) then biases |
 *   from format 2, when the header has `itemTerm`: its weights as CSR, int32 LE indptr (items + 1),
 *   int32 LE indices, float32 LE values (nnz each): alpha x B in format 2, B itself from format 3
 *   (the term scales its sums by alpha).
 * The header holds the config and the id maps, so a loaded model needs nothing else. Format 1
 * (no item term) and 2 blobs still load.
 */
const MAGIC = 'RCDAE001';
const FORMAT_VERSION = 3;
const READABLE_VERSIONS = [1, 2, 3];

export interface ModelIds {
  /** External item id per item index: required to turn scores into recommendations. */
  itemIds: readonly string[];
  /** External user id per training row, if the caller wants them kept with the model. */
  userIds?: readonly string[];
}

interface Header {
  version: number;
  config: DaeConfig;
  itemIds: readonly string[];
  userIds: readonly string[] | null;
  meta: Record<string, unknown>;
  itemTerm?: (ItemTermInfo & { nnz: number }) | null;
}

export interface LoadedModel {
  model: DaeModel;
  itemIds: string[];
  userIds: string[] | null;
  /** Whatever the caller stored (seed, metrics, trainedAt...). */
  meta: Record<string, unknown>;
}

export function serializeModel(model: DaeModel, ids: ModelIds, meta: Record<string, unknown> = {}): Buffer {
  if (ids.itemIds.length !== model.config.items)
    throw new RangeError(`${ids.itemIds.length} item ids for ${model.config.items} items`);
  const term = model.itemTerm;
  const header: Header = {
    version: FORMAT_VERSION,
    config: model.config,
    itemIds: ids.itemIds,
    userIds: ids.userIds ?? null,
    meta,
    itemTerm: term && { ...term.info, nnz: term.weights.indices.length },
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = MAGIC.length + 4 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const arrays: (Float32Array | Int32Array)[] = model.params.weights.flatMap((w, l) => [w, model.params.biases[l]]);
  if (term) arrays.push(term.weights.indptr, term.weights.indices, term.weights.values);
  // every array holds 4-byte values
  const floats = arrays.reduce((n, a) => n + a.length, 0);
  const out = Buffer.alloc(dataStart + floats * 4);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  let at = dataStart;
  for (const a of arrays) {
    // copy through a byte view: the machine is little-endian like the format (checked on load)
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

export function deserializeModel(blob: Uint8Array): LoadedModel {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < MAGIC.length + 4 || buf.toString('ascii', 0, MAGIC.length) !== MAGIC)
    throw new Error('not a recoder DAE model blob');
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian machines are not supported');
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + jsonLength)) as Header;
  if (!READABLE_VERSIONS.includes(header.version))
    throw new Error(`model blob version ${header.version} is not supported`);
  const sizes = layerSizes(header.config);
  let at = Math.ceil((MAGIC.length + 4 + jsonLength) / 4) * 4;
  const take = (n: number): Float32Array => new Float32Array(takeBytes(n));
  const takeBytes = (n: number): ArrayBuffer => {
    if (at + n * 4 > buf.length) throw new Error('model blob is truncated');
    const out = new Uint8Array(n * 4);
    out.set(buf.subarray(at, at + n * 4));
    at += n * 4;
    return out.buffer;
  };
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    weights.push(take(sizes[l] * sizes[l + 1]));
    biases.push(take(sizes[l + 1]));
  }
  let term: ItemTerm | null = null;
  if (header.itemTerm) {
    const { nnz, ...info } = header.itemTerm;
    const items = header.config.items;
    const indptr = new Int32Array(takeBytes(items + 1));
    const indices = new Int32Array(takeBytes(nnz));
    const values = take(nnz);
    if (indptr[items] !== nnz) throw new Error('model blob has a malformed item term');
    term = new ItemTerm(
      { rows: items, cols: items, indptr, indices, values },
      info,
      header.version === 2 ? 1 : info.alpha,
    );
  }
  if (at !== buf.length) throw new Error('model blob has trailing bytes');
  return {
    model: new DaeModel(header.config, { weights, biases }, term),
    itemIds: [...header.itemIds],
    userIds: header.userIds ? [...header.userIds] : null,
    meta: header.meta,
  };
}
