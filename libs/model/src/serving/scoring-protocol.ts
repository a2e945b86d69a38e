import { ModelBackend } from '../backend';

/** What a scoring thread computes: item scores of embeddings or of item lists (fold-in), or item-item cosines. */
export type ScoringKind = 'decode' | 'foldIn' | 'similar';

export interface ScoringWorkerData {
  /** The serialised model, shared by every thread (each builds its own tensors from it). */
  blob: SharedArrayBuffer;
  backend?: ModelBackend;
}

export type ScoringRequest =
  | { id: number; kind: 'decode'; embeddings: Float32Array; count: number }
  | { id: number; kind: 'foldIn'; itemLists: number[][] }
  | { id: number; kind: 'similar'; indices: Int32Array };
export type ScoringReply = { id: number; scores: Float32Array } | { id: number; error: string } | { ready: true } | { failed: string };
