import { parentPort } from 'node:worker_threads';
import { AdamOptions, adamStep, AdamState, emaDecayAt, emaStep } from './adam';
import { initBackend } from './backend';
import { shardGradients } from './dae-gradients';
import { DaeConfig, DaeParams } from './dae-config';
import { WorkerReply, WorkerRequest } from './gradient-pool';
import { AdamKernel, adamKernel } from './kernels/parameter-arena';
import { ValidationSet, validationValues } from './validation-scoring';

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
  kernel: AdamKernel | null;
  transposed: (Float32Array | undefined)[];
  /** This thread's share of the validation users. */
  validation: ValidationSet | null;
}
let state: State | null = null;

const port = parentPort;
if (!port) throw new Error('dae.worker must run in a worker thread');

const reply = (msg: WorkerReply) => port.postMessage(msg);

port.on('message', (msg: WorkerRequest) => {
  handle(msg).catch((err: unknown) =>
    reply({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
});

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.type === 'init') {
    state = {
      index: msg.index,
      threads: msg.threads,
      config: msg.config,
      params: msg.params,
      grads: msg.grads,
      adam: msg.adam,
      options: msg.options,
      ema: msg.ema,
      kernel: msg.memory && adamKernel(msg.memory),
      transposed: msg.transposed,
      validation: null,
    };
    const info = await initBackend(msg.backend);
    reply({ type: 'ready', backend: info.backend });
    return;
  }
  if (!state) throw new Error('worker not initialised');
  if (msg.type === 'validate') {
    state.validation = msg.set ?? state.validation;
    if (!state.validation) throw new Error('no validation set');
    const params = msg.averaged && state.ema ? state.ema.params : state.params;
    reply({ type: 'values', values: validationValues(state.config, params, state.validation, msg.k) });
    return;
  }
  if (msg.type === 'batch') {
    const { grads } = state;
    const loss = shardGradients(
      state.config,
      state.params,
      msg.shards.map((s) => s.batch),
      msg.shards.map((s) => grads[s.index]),
      state.transposed,
    );
    reply({ type: 'done', loss });
    return;
  }
  adamStep(state.params, state.grads, state.adam, { ...state.options, learningRate: msg.learningRate }, msg.step, {
    part: state.index,
    parts: state.threads,
    kernel: state.kernel,
    transposed: state.transposed,
  });
  if (state.ema)
    emaStep(state.ema.params, state.params, emaDecayAt(state.ema.decay, msg.step), state.index, state.threads);
  reply({ type: 'done', loss: 0 });
}
