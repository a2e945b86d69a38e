import { parentPort } from 'node:worker_threads';
import { initBackend } from './backend';
import { WorkerReply, WorkerRequest } from './gradient-pool';
import { AdamKernel, adamKernel } from './kernels/parameter-arena';
import { dealtGradients, stepSlice, ThreadTraining } from './training-thread';
import { ValidationSet, validationValues } from './validation-scoring';

// A data-parallel training worker: its own tfjs backend; parameters, gradients and Adam state
// shared with the trainer through SharedArrayBuffers; shards and update steps by message.
interface State {
  index: number;
  threads: number;
  training: ThreadTraining;
  kernel: AdamKernel | null;
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
    const { index, threads, training, memory } = msg;
    state = { index, threads, training, kernel: memory && adamKernel(memory), validation: null };
    const info = await initBackend(msg.backend);
    reply({ type: 'ready', backend: info.backend });
    return;
  }
  if (!state) throw new Error('worker not initialised');
  const { training } = state;
  if (msg.type === 'validate') {
    state.validation = msg.set ?? state.validation;
    if (!state.validation) throw new Error('no validation set');
    const params = msg.averaged && training.ema ? training.ema.params : training.params;
    reply({ type: 'values', values: validationValues(training.config, params, state.validation, msg.k) });
    return;
  }
  if (msg.type === 'batch') {
    reply({ type: 'done', loss: dealtGradients(training, msg.shards) });
    return;
  }
  training.options = { ...training.options, learningRate: msg.learningRate };
  stepSlice(training, state.kernel, msg.step, state.index, state.threads);
  reply({ type: 'done', loss: 0 });
}
