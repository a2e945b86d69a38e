import { createHash } from 'node:crypto';

/**
 * Where a user falls in [0, 1) for an experiment: the first 32 bits of SHA-256(salt, id). The same
 * in every process and after every restart; another salt (the next experiment) draws afresh.
 */
export function experimentPoint(salt: string, userId: string): number {
  // the NUL keeps "ab"+"c" apart from "a"+"bc"; ids never hold one (the input rules refuse control characters)
  return createHash('sha256').update(salt).update('\0').update(userId).digest().readUInt32BE(0) / 2 ** 32;
}

/** Whether the user is in the canary's arm of an experiment sending it `traffic` of the users. */
export function inCanaryArm(salt: string, traffic: number, userId: string): boolean {
  return experimentPoint(salt, userId) < traffic;
}
