import { ADAM_WASM_BASE64 } from './adam-wasm';
import { compileKernel, KERNELS } from './compile-kernels';
import { DOT_F32_LISTED_WASM_BASE64 } from './dot-f32-listed-wasm';
import { DOT_I16_WASM_BASE64 } from './dot-i16-wasm';

const COMMITTED: Record<(typeof KERNELS)[number]['name'], string> = {
  adam: ADAM_WASM_BASE64,
  'dot-i16': DOT_I16_WASM_BASE64,
  'dot-f32-listed': DOT_F32_LISTED_WASM_BASE64,
};

describe('committed wasm kernels', () => {
  it.each(KERNELS.map((k) => [k.name, k] as const))(
    '%s is committed as compiled from its text (npm run build:kernels)',
    async (name, kernel) => {
      expect(Buffer.from(await compileKernel(kernel)).toString('base64')).toBe(COMMITTED[name]);
    },
  );
});
