import { ModelBackend } from '../backend';
import { Ranking, ScoredRow, ScoringBatch } from './score-batch';

/**
 * What a scoring thread computes: item scores of embeddings or of item lists (fold-in), item-item
 * cosines, or the scores of a few chosen items of embeddings.
 */
export type ScoringKind = 'decode' | 'foldIn' | 'reconstruct' | 'similar' | 'itemScores';

export interface ScoringWorkerData {
  /** The serialised model, shared by every thread (each builds its own tensors from it). */
  blob: SharedArrayBuffer;
  backend?: ModelBackend;
  /** An ItemIndex's directory (ItemIndex.save): the thread views it and ranks through it. */
  indexDir?: string;
}

/**
 * A batch, and rankings[r] (or null for the full row) for each of its rows. Embeddings travel as
 * one transferred block: a view posted on its own would clone its whole underlying buffer.
 */
export interface ScoringRequest {
  id: number;
  batch: ScoringBatch;
  rankings: (Ranking | null)[];
}

export type ScoringReply =
  { id: number; rows: ScoredRow[] } | { id: number; error: string } | { ready: true } | { failed: string };
