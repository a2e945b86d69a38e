import { DaeModel } from './dae.model';
import { DaeConfig, layerSizes } from './dae-config';

/**
 * One binary blob per trained model (the training job stores it in Postgres):
 *   magic "RCDAE001" | uint32 LE header length | header JSON (utf8) | zero padding to 4 bytes |
 *   float32 LE parameters, layer by layer: weights (in x out, row-major) then biases.
 * The header holds the config and the id maps, so a loaded model needs nothing else.
 */
const MAGIC = 'RCDAE001';
const FORMAT_VERSION = 1;

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
}

export interface LoadedModel {
  model: DaeModel;
  itemIds: string[];
  userIds: string[] | null;
  /** Whatever the caller stored (seed, metrics, trainedAt...). */
  meta: Record<string, unknown>;
}

export function serializeModel(model: DaeModel, ids: ModelIds, meta: Record<string, unknown> = {}): Buffer {
  if (ids.itemIds.length !== model.config.items) throw new RangeError(`${ids.itemIds.length} item ids for ${model.config.items} items`);
  const header: Header = { version: FORMAT_VERSION, config: model.config, itemIds: ids.itemIds, userIds: ids.userIds ?? null, meta };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = MAGIC.length + 4 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const arrays = model.params.weights.flatMap((w, l) => [w, model.params.biases[l]]);
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
  if (buf.length < MAGIC.length + 4 || buf.toString('ascii', 0, MAGIC.length) !== MAGIC) throw new Error('not a recoder DAE model blob');
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian machines are not supported');
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + jsonLength)) as Header;
  if (header.version !== FORMAT_VERSION) throw new Error(`model blob version ${header.version} is not supported`);
  const sizes = layerSizes(header.config);
  let at = Math.ceil((MAGIC.length + 4 + jsonLength) / 4) * 4;
  const take = (n: number): Float32Array => {
    if (at + n * 4 > buf.length) throw new Error('model blob is truncated');
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(buf.subarray(at, at + n * 4));
    at += n * 4;
    return out;
  };
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    weights.push(take(sizes[l] * sizes[l + 1]));
    biases.push(take(sizes[l + 1]));
  }
  if (at !== buf.length) throw new Error('model blob has trailing bytes');
  return {
    model: new DaeModel(header.config, { weights, biases }),
    itemIds: [...header.itemIds],
    userIds: header.userIds ? [...header.userIds] : null,
    meta: header.meta,
  };
}
