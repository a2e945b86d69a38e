import { parentPort } from 'node:worker_threads';
import { initBackend } from './backend';
import { batchGradients } from './dae-gradients';
import { WorkerReply, WorkerRequest } from './gradient-pool';
import { DaeConfig, DaeParams } from './dae.model';

// A data-parallel gradient worker: its own tfjs backend, parameters and gradients shared with the
// trainer through SharedArrayBuffers, batches (shards) by message.
let config: DaeConfig | null = null;
let params: DaeParams | null = null;
let grads: DaeParams | null = null;

const port = parentPort;
if (!port) throw new Error('dae.worker must run in a worker thread');

const reply = (msg: WorkerReply) => port.postMessage(msg);

port.on('message', (msg: WorkerRequest) => {
  handle(msg).catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.type === 'init') {
    const view = (buffers: SharedArrayBuffer[]) => buffers.map((b) => new Float32Array(b));
    config = msg.config;
    params = { weights: view(msg.params.weights), biases: view(msg.params.biases) };
    grads = { weights: view(msg.grads.weights), biases: view(msg.grads.biases) };
    const info = await initBackend(msg.backend);
    reply({ type: 'ready', backend: info.backend });
    return;
  }
  if (!config || !params || !grads) throw new Error('worker not initialised');
  const loss = batchGradients(config, params, msg.batch, grads);
  reply({ type: 'done', loss });
}
