import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend';
import { DaeModel } from '../dae.model';
import { ItemIndex } from '../ann/item-index';
import { deserializeModel } from '../serialize';
import { scoreBatch } from './score-batch';
import { ScoringReply, ScoringRequest, ScoringWorkerData } from './scoring-protocol';
import { lowerThreadPriority } from './thread-priority';

// A scoring thread: its own tfjs backend (wasm is single-threaded in Node, so each thread is a
// core) and its own copy of the model's tensors; batches in, score rows or ranked items out
// (their buffers transferred, not copied).
/** Linux nice value: a competing nice-0 thread gets ~90% of a core (CFS weights 1024 against 110). */
const SCORING_NICE = 10;
const port = parentPort;
if (!port) throw new Error('scoring.worker must run in a worker thread');
const { blob, backend, indexDir } = workerData as ScoringWorkerData;
// below the request thread: with as many scoring threads as cores, decodes take what is left
lowerThreadPriority(SCORING_NICE);
let model: DaeModel | null = null;

const reply = (msg: ScoringReply, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

initBackend(backend)
  .then(() => {
    const deserialized = deserializeModel(new Uint8Array(blob)).model;
    // memory-mapped: every thread and process viewing the files shares one copy of the pages
    model = indexDir ? deserialized.withIndex(ItemIndex.view(indexDir)) : deserialized;
    // the first ranking packs the output layer for the matMul kernel and quantises it for rank's
    // first pass (seconds at 200k items), and with an index the first similar row lays out the
    // cosine clusters' layer (15 s at 1M items, which every similar request of the thread queued
    // behind): pay both now, while the previous model still serves, not on the first requests
    model.rank({ embeddings: new Float32Array(model.embeddingDim) }, [{ k: 1, exclude: [] }]);
    model.rankSimilar([0], [{ k: 1, exclude: [0] }]);
    reply({ ready: true });
  })
  .catch((err: Error) => reply({ failed: err.message }));

port.on('message', (msg: ScoringRequest) => {
  try {
    const rows = scoreBatch(model!, msg.batch, msg.rankings);
    const buffers = new Set<ArrayBuffer>();
    for (const row of rows) {
      if (row instanceof Float32Array) buffers.add(row.buffer as ArrayBuffer);
      else buffers.add(row.items.buffer as ArrayBuffer).add(row.scores.buffer as ArrayBuffer);
    }
    reply({ id: msg.id, rows }, [...buffers]);
  } catch (err) {
    reply({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
