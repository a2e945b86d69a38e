import { adamWat } from './adam-wat';

/**
 * The kernels' WebAssembly binary, compiled from their text with wabt (a dev dependency: only the
 * build script and the test that checks the committed module use it).
 */
export async function compileKernels(): Promise<Uint8Array> {
  const wabt = await (require('wabt') as () => Promise<WabtApi>)();
  const module = wabt.parseWat('adam.wat', adamWat(), { simd: true, threads: true });
  try {
    // wabt's validator refuses shared memories whatever the features, so WebAssembly validates
    const { buffer } = module.toBinary({});
    if (!WebAssembly.validate(buffer)) throw new Error('the compiled kernels do not validate');
    return buffer;
  } finally {
    module.destroy();
  }
}

interface WabtApi {
  parseWat(name: string, text: string, features: Record<string, boolean>): { toBinary(options: object): { buffer: Uint8Array }; destroy(): void };
}
