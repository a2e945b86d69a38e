import { ModelBackend } from '../backend';
import { Ranking, ScoredRow, ScoringInput } from './score-batch';

/** What a scoring thread computes: item scores of embeddings or of item lists (fold-in), or item-item cosines. */
export type ScoringKind = 'decode' | 'foldIn' | 'similar';

export interface ScoringWorkerData {
  /** The serialised model, shared by every thread (each builds its own tensors from it). */
  blob: SharedArrayBuffer;
  backend?: ModelBackend;
}

/**
 * A batch of one kind; rankings[r] (or null for the full row) for each input. Embeddings travel
 * as one transferred block: a view posted on its own would clone its whole underlying buffer.
 */
export type ScoringRequest =
  | { id: number; kind: 'decode'; embeddings: Float32Array; count: number; rankings: (Ranking | null)[] }
  | { id: number; kind: 'foldIn' | 'similar'; inputs: ScoringInput[]; rankings: (Ranking | null)[] };

export type ScoringReply = { id: number; rows: ScoredRow[] } | { id: number; error: string } | { ready: true } | { failed: string };
