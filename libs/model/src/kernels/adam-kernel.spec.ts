import { createRng } from '@app/random';
import { adamCoefficients, adamState, adamStep, DEFAULT_ADAM, transposeInto } from '../adam';
import { cloneParams, DaeParams } from '../dae-config';
import { adamKernel, ParameterArena } from './parameter-arena';

// one 13 x 10 weight matrix and its 10 biases: vectors of 4 straddle rows, and three threads'
// slices (43, 43 and 44 floats) cut rows
const [ROWS, COLS] = [13, 10];

function randomParams(alloc: (n: number) => Float32Array, seed: number): DaeParams {
  const rng = createRng(seed);
  // in place: a map() would return a copy outside the arena
  const fill = (a: Float32Array) => {
    for (let k = 0; k < a.length; k++) a[k] = rng.next() - 0.5;
    return a;
  };
  return { weights: [fill(alloc(ROWS * COLS))], biases: [fill(alloc(COLS))] };
}

describe('wasm Adam kernel', () => {
  it.each([0, 1, 2])(
    'updates the same bits as the JS loops with %i gradients, keeping the transposed copy',
    (gradients) => {
      for (const weightDecay of [0, 0.01]) {
        const arena = ParameterArena.create([ROWS * COLS, COLS], 5 + gradients)!;
        const kernel = adamKernel(arena.memory);
        const fast = {
          params: randomParams(arena.alloc, 1),
          grads: [2, 3].slice(0, gradients).map((s) => randomParams(arena.alloc, s)),
          transposed: arena.alloc(ROWS * COLS),
        };
        const state = adamState(fast.params, arena.alloc);
        transposeInto(fast.params.weights[0], { values: fast.transposed, cols: COLS });
        const slow = { params: cloneParams(fast.params), grads: fast.grads.map((g) => cloneParams(g)) };
        const slowState = { m: cloneParams(state.m), v: cloneParams(state.v) };
        const options = { ...DEFAULT_ADAM, learningRate: 0.01, weightDecay };
        const used = jest.spyOn(kernel, 'update');
        for (let step = 1; step <= 3; step++) {
          for (let part = 0; part < 3; part++) {
            adamStep(fast.params, fast.grads, state, options, step, {
              part,
              parts: 3,
              kernel,
              transposed: [fast.transposed],
            });
            adamStep(slow.params, slow.grads, slowState, options, step, { part, parts: 3 });
          }
        }
        // the kernel did the fast side's steps (the JS loops the slow side's)
        expect(used.mock.results.length).toBe(2 * 3 * 3);
        expect(used.mock.results.every((r) => r.value === true)).toBe(true);
        expect(fast.params).toEqual(slow.params);
        expect(state).toEqual(slowState);
        // the weights moved, unless there was nothing to move them (no gradient, no decay)
        const moved = fast.params.weights[0].some(
          (w, k) => w !== randomParams((n) => new Float32Array(n), 1).weights[0][k],
        );
        expect(moved).toBe(gradients > 0 || weightDecay > 0);
        const transposed = new Float32Array(ROWS * COLS);
        transposeInto(slow.params.weights[0], { values: transposed, cols: COLS });
        expect(fast.transposed).toEqual(transposed);
      }
    },
  );

  it('leaves arrays outside its memory to the JS loops', () => {
    const arena = ParameterArena.create([ROWS * COLS, COLS], 4)!;
    const plain = randomParams((n) => new Float32Array(n), 1);
    const w = plain.weights[0];
    const slice = { w, grads: [w], m: w, v: w, lo: 0, hi: w.length };
    expect(adamKernel(arena.memory).update(slice, adamCoefficients(DEFAULT_ADAM, 1))).toBe(false);
    expect(Array.from(w)).toEqual(Array.from(randomParams((n) => new Float32Array(n), 1).weights[0]));
  });

  it('declines training state beyond what one wasm memory addresses (4 GiB)', () => {
    expect(ParameterArena.create([2 ** 28 + 4], 4)).toBeNull();
    expect(ParameterArena.create([1000], 4)?.memory.buffer.byteLength).toBe(65_536);
  });
});
