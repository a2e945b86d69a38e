import * as tf from '@tensorflow/tfjs';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';

/** The tfjs backends recoder can run on, fastest first. */
export const MODEL_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type ModelBackend = (typeof MODEL_BACKENDS)[number];

export interface BackendInfo {
  backend: ModelBackend;
  /** Threads the backend's kernels use (wasm runs single-threaded in Node). */
  threads: number;
  simd: boolean;
}

let ready: Promise<BackendInfo> | null = null;
let readyFor: ModelBackend | 'auto' | null = null;

/**
 * Picks and initialises the tfjs backend once per process (or worker thread).
 * `requested` forces one; otherwise tensorflow (tfjs-node, if installed) > wasm > cpu.
 * Asking again returns the same backend; asking for a different one switches.
 */
export function initBackend(requested?: ModelBackend): Promise<BackendInfo> {
  const key = requested ?? 'auto';
  if (ready && readyFor === key) return ready;
  readyFor = key;
  ready = chooseBackend(requested);
  return ready;
}

/** The TFJS_BACKEND environment variable, for command lines that run without libs/config. */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): ModelBackend | undefined {
  const value = env.TFJS_BACKEND;
  if (value === undefined || value === '') return undefined;
  if (!(MODEL_BACKENDS as readonly string[]).includes(value)) {
    throw new Error(`TFJS_BACKEND must be one of ${MODEL_BACKENDS.join(', ')}`);
  }
  return value as ModelBackend;
}

async function chooseBackend(requested?: ModelBackend): Promise<BackendInfo> {
  const order: ModelBackend[] = requested ? [requested] : [...MODEL_BACKENDS];
  const failures: string[] = [];
  for (const name of order) {
    try {
      return await activate(name);
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`no tfjs backend could start (${failures.join('; ')})`);
}

async function activate(name: ModelBackend): Promise<BackendInfo> {
  if (name === 'tensorflow') {
    // optional dependency, absent where libtensorflow is not installed: required (untyped) only when
    // asked for; it registers the "tensorflow" backend
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // load the .wasm files from node_modules, not from a CDN
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
    wasm.setWasmPaths(dist.endsWith('/') ? dist : `${dist}/`);
    wasm.setThreadsCount(1);
    // V8 starts wasm on its baseline compiler (Liftoff) and tiers hot functions up to TurboFan,
    // but in worker threads (scoring, training) the kernels were measured staying on Liftoff:
    // matMul at half the main thread's GFLOP/s. Compile optimised from the start (a process-wide
    // flag, read when the module compiles; set before tf.setBackend instantiates it).
    setFlagsFromString('--no-liftoff');
  }
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend("${name}") failed`);
  await tf.ready();
  const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : name === 'tensorflow';
  return { backend: name, threads: 1, simd };
}
