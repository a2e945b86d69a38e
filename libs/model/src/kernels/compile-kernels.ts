import loadWabt from 'wabt';
import { adamWat } from './adam-wat';
import { dotF32ListedWat } from './dot-f32-listed-wat';
import { dotI16Wat } from './dot-i16-wat';

/** Each kernel module: its text, and the file its compiled binary is committed in (as base64). */
export const KERNELS = [
  { name: 'adam', wat: adamWat, file: 'adam-wasm.ts', constant: 'ADAM_WASM_BASE64' },
  { name: 'dot-i16', wat: dotI16Wat, file: 'dot-i16-wasm.ts', constant: 'DOT_I16_WASM_BASE64' },
  {
    name: 'dot-f32-listed',
    wat: dotF32ListedWat,
    file: 'dot-f32-listed-wasm.ts',
    constant: 'DOT_F32_LISTED_WASM_BASE64',
  },
] as const;

/**
 * A kernel module's WebAssembly binary, compiled from its text with wabt (a dev dependency: only
 * the build script and the test that checks the committed modules import this file).
 */
export async function compileKernel(kernel: (typeof KERNELS)[number]): Promise<Uint8Array> {
  const wabt = await loadWabt();
  const module = wabt.parseWat(`${kernel.name}.wat`, kernel.wat(), { simd: true, threads: true });
  try {
    // wabt's validator refuses shared memories whatever the features, so WebAssembly validates
    const { buffer } = module.toBinary({});
    if (!WebAssembly.validate(buffer)) throw new Error(`the compiled ${kernel.name} kernel does not validate`);
    return buffer;
  } finally {
    module.destroy();
  }
}
