import { createHmac, timingSafeEqual } from 'node:crypto';

// A recommendation id names one answer without anything written when it is given: everything a
// later event needs to be attributed (whom it was for, which model, which query, when, which items)
// travels in the id itself, signed so that a client cannot forge or alter it.

/** Which query gave the answer. */
export enum RecommendationSurface {
  USER = 0,
  SESSION = 1,
  SIMILAR = 2,
}

/** What an id says of its answer. */
export interface RecommendationClaims {
  surface: RecommendationSurface;
  /** The model version that scored it; null: popularity without a model. */
  modelVersion: number | null;
  /** Whom it was for; null: an anonymous session's or an item's answer asked for no user. */
  userId: string | null;
  /** When it was given, unix seconds. */
  issuedAt: number;
  /** Membership test of the answer's item ids (a Bloom filter: false positives at about 1%, never false negatives). */
  items: ItemSet;
}

export enum RecommendationIdProblem {
  Malformed = 'malformed',
  Tampered = 'tampered',
  Expired = 'expired',
}

/** Thrown by `verify`: the id was not made by this server (or was altered), or is too old. */
export class RecommendationIdError extends Error {
  constructor(
    readonly problem: RecommendationIdProblem,
    message: string,
  ) {
    super(message);
  }
}

const FORMAT = 1;
/** 128 bits of HMAC-SHA-256: forging one takes 2^128 tries. */
const MAC_BYTES = 16;
/** 10 bits an item and 7 probes: about 1% of other items pass for members. */
const BITS_PER_ITEM = 10;
const PROBES = 7;
const NO_VERSION = 0xffffffff;
/** format, surface, model version, issued at, user id length, filter length. */
const HEADER_BYTES = 1 + 1 + 4 + 4 + 2 + 2;

/** Signs and checks recommendation ids under one secret; pure, so the codec is tested alone. */
export class RecommendationIdCodec {
  constructor(
    private readonly secret: Buffer,
    /** How long an id is accepted after it was given. */
    private readonly ttlSeconds: number,
  ) {}

  /** A compact URL-safe token (base64url): about 40 characters plus the user id and 1.25 bytes an item. */
  sign(claims: Omit<RecommendationClaims, 'items'>, itemIds: readonly string[]): string {
    const user = Buffer.from(claims.userId ?? '', 'utf8');
    const filter = bloom(itemIds);
    const body = Buffer.allocUnsafe(HEADER_BYTES + user.length + filter.length);
    let at = body.writeUInt8(FORMAT, 0);
    at = body.writeUInt8(claims.surface, at);
    at = body.writeUInt32BE(claims.modelVersion ?? NO_VERSION, at);
    at = body.writeUInt32BE(claims.issuedAt, at);
    // a null user and an empty one differ: ids are never empty, so length 0 means none
    at = body.writeUInt16BE(user.length, at);
    at = body.writeUInt16BE(filter.length, at);
    at += user.copy(body, at);
    filter.copy(body, at);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  /** The claims of an id this server signed that has not expired; throws RecommendationIdError otherwise. */
  verify(token: string, nowSeconds = Math.floor(Date.now() / 1000)): RecommendationClaims {
    const raw = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url') : Buffer.alloc(0);
    if (raw.length < HEADER_BYTES + MAC_BYTES) throw malformed();
    const body = raw.subarray(0, raw.length - MAC_BYTES);
    const mac = raw.subarray(raw.length - MAC_BYTES);
    if (!timingSafeEqual(mac, this.mac(body)))
      throw new RecommendationIdError(
        RecommendationIdProblem.Tampered,
        'recommendationId was not issued by this service',
      );
    // signed by us: the layout is ours, only the format byte can differ (an id of a later format)
    if (body.readUInt8(0) !== FORMAT) throw malformed();
    const surface = body.readUInt8(1) as RecommendationSurface;
    const version = body.readUInt32BE(2);
    const issuedAt = body.readUInt32BE(6);
    const userBytes = body.readUInt16BE(10);
    const filterBytes = body.readUInt16BE(12);
    if (body.length !== HEADER_BYTES + userBytes + filterBytes) throw malformed();
    if (issuedAt + this.ttlSeconds < nowSeconds)
      throw new RecommendationIdError(RecommendationIdProblem.Expired, 'recommendationId has expired');
    const user = body.subarray(HEADER_BYTES, HEADER_BYTES + userBytes);
    return {
      surface,
      modelVersion: version === NO_VERSION ? null : version,
      userId: userBytes === 0 ? null : user.toString('utf8'),
      issuedAt,
      items: new ItemSet(Buffer.from(body.subarray(HEADER_BYTES + userBytes))),
    };
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(body).digest().subarray(0, MAC_BYTES);
  }
}

const malformed = () => new RecommendationIdError(RecommendationIdProblem.Malformed, 'recommendationId is malformed');

/** The answer's items as a Bloom filter. */
export class ItemSet {
  constructor(private readonly bits: Buffer) {}

  has(itemId: string): boolean {
    if (this.bits.length === 0) return false;
    const size = this.bits.length * 8;
    for (const bit of probes(itemId, size)) if (!(this.bits[bit >> 3] & (1 << (bit & 7)))) return false;
    return true;
  }
}

function bloom(itemIds: readonly string[]): Buffer {
  if (itemIds.length === 0) return Buffer.alloc(0);
  const bytes = Math.ceil((itemIds.length * BITS_PER_ITEM) / 8);
  const bits = Buffer.alloc(bytes);
  for (const id of itemIds) for (const bit of probes(id, bytes * 8)) bits[bit >> 3] |= 1 << (bit & 7);
  return bits;
}

/** Double hashing of two FNV-1a variants: fast, and enough spread for a filter the MAC already protects. */
function probes(id: string, size: number): number[] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  h2 = (h2 | 1) >>> 0;
  const out = new Array<number>(PROBES);
  for (let k = 0; k < PROBES; k++) out[k] = ((h1 + Math.imul(k, h2)) >>> 0) % size;
  return out;
}
