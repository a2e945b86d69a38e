/**
 * Redis Cluster's key-to-slot mapping (CRC16-XMODEM of the key's hash tag, mod 16384), and for each
 * slot a short tag that lands on it: a key can then share a slot with a user's keys without
 * holding the user's id (the erasure mark, see erasedKey).
 */
export const CLUSTER_SLOTS = 16384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CRC16-XMODEM, continued from `crc` (a tag's CRC extends its prefix's). */
function crc16(bytes: Uint8Array, crc = 0): number {
  for (const byte of bytes) crc = crc16Step(crc, byte);
  return crc;
}

const crc16Step = (crc: number, byte: number): number =>
  ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff];

/** The slot of a key, as Redis Cluster computes it: only the part inside the first non-empty `{...}` counts. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key, 'utf8')) % CLUSTER_SLOTS;
}

const TAG_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** Two tags per slot, so one that differs from a given string is always at hand. */
let slotTags: [string[], string[]] | null = null;

/**
 * A short tag (of [0-9a-z]) whose slot is `slot` and which is not `avoid`: a key tagged with it
 * shares the slot of a key tagged `avoid` without holding `avoid`. Built once, in a few ms.
 */
export function tagOfSlot(slot: number, avoid?: string): string {
  slotTags ??= buildSlotTags();
  const [first, second] = slotTags;
  return first[slot] === avoid ? second[slot] : first[slot];
}

function buildSlotTags(): [string[], string[]] {
  const first = new Array<string>(CLUSTER_SLOTS);
  const second = new Array<string>(CLUSTER_SLOTS);
  let missing = CLUSTER_SLOTS * 2;
  // every slot is hit by two tags of five characters or fewer (36^4 alone are 1.7 million candidates)
  const visit = (tag: string, crc: number, depth: number): void => {
    if (missing === 0) return;
    if (depth === 0) {
      const slot = crc % CLUSTER_SLOTS;
      if (first[slot] === undefined) first[slot] = tag;
      else if (second[slot] === undefined) second[slot] = tag;
      else return;
      missing--;
      return;
    }
    for (const ch of TAG_ALPHABET) visit(tag + ch, crc16Step(crc, ch.charCodeAt(0)), depth - 1);
  };
  for (let length = 1; missing > 0; length++) {
    if (length > 5) throw new Error('no tag found for some cluster slot');
    visit('', 0, length);
  }
  return [first, second];
}
