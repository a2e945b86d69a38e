import { parentPort } from 'node:worker_threads';
import { AdamOptions, adamStep, AdamState, emaDecayAt, emaStep } from './adam';
import { initBackend } from './backend';
import { batchGradients } from './dae-gradients';
import { DaeConfig, DaeParams } from './dae.model';
import { SharedParams, WorkerReply, WorkerRequest } from './gradient-pool';

// A data-parallel training worker: its own tfjs backend; parameters, gradients and Adam state
// shared with the trainer through SharedArrayBuffers; shards and update steps by message.
interface State {
  index: number;
  threads: number;
  config: DaeConfig;
  params: DaeParams;
  grads: DaeParams[];
  adam: AdamState;
  options: AdamOptions;
  ema: { params: DaeParams; decay: number } | null;
}
let state: State | null = null;

const port = parentPort;
if (!port) throw new Error('dae.worker must run in a worker thread');

const reply = (msg: WorkerReply) => port.postMessage(msg);
const view = (p: SharedParams): DaeParams => ({ weights: p.weights.map((b) => new Float32Array(b)), biases: p.biases.map((b) => new Float32Array(b)) });

port.on('message', (msg: WorkerRequest) => {
  handle(msg).catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.type === 'init') {
    state = {
      index: msg.index,
      threads: msg.threads,
      config: msg.config,
      params: view(msg.params),
      grads: msg.grads.map(view),
      adam: { m: view(msg.adam.m), v: view(msg.adam.v) },
      options: msg.options,
      ema: msg.ema && { params: view(msg.ema.params), decay: msg.ema.decay },
    };
    const info = await initBackend(msg.backend);
    reply({ type: 'ready', backend: info.backend });
    return;
  }
  if (!state) throw new Error('worker not initialised');
  if (msg.type === 'batch') {
    const loss = batchGradients(state.config, state.params, msg.batch, state.grads[state.index]);
    reply({ type: 'done', loss });
    return;
  }
  adamStep(state.params, state.grads, state.adam, state.options, msg.step, state.index, state.threads);
  if (state.ema) emaStep(state.ema.params, state.params, emaDecayAt(state.ema.decay, msg.step), state.index, state.threads);
  reply({ type: 'done', loss: 0 });
}
