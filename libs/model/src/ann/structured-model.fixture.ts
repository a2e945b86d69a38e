import { createRng } from '@app/random';
import { DaeConfig, DaeParams, DEFAULT_DAE_CONFIG } from '../dae-config';

/**
 * An output layer shaped like a trained one rather than a random one: items in clusters (a
 * centroid each plus noise of their own), norms and biases spread by popularity (a Zipf rank), and
 * users' hidden vectors that lean towards a few clusters, an encoder whose item rows follow the
 * decoder's. Random vectors in many dimensions are
 * all about as far from each other, which makes nearest-neighbour search look harder than it is.
 */
export function structuredModel(
  items: number,
  width: number,
  seed = 1,
  clusters = 64,
): { config: DaeConfig; params: DaeParams; users: (count: number) => Float32Array } {
  const rng = createRng(seed);
  const config: DaeConfig = { ...DEFAULT_DAE_CONFIG, items, hidden: [], embeddingDim: width };
  const centroids = Array.from({ length: clusters }, () =>
    Float32Array.from({ length: width }, () => rng.normal() / Math.sqrt(width)),
  );
  const w = new Float32Array(width * items);
  const b = new Float32Array(items);
  const order = Array.from({ length: items }, (_, i) => i).sort(() => rng.next() - 0.5);
  for (let i = 0; i < items; i++) {
    const c = centroids[Math.floor(rng.next() * clusters)];
    // popular items: longer vectors and higher biases (a trained output layer's pattern)
    const popularity = 1 / Math.sqrt(1 + order[i] / 50);
    const scale = 2 + 3 * popularity;
    for (let h = 0; h < width; h++) w[h * items + i] = scale * (c[h] + (0.6 * rng.normal()) / Math.sqrt(width));
    b[i] = -4 + 3 * popularity + 0.3 * rng.normal();
  }
  // the encoder's row of an item leans the way its decoder column does: a fold-in of a few items
  // of a cluster lands near that cluster's items, as a trained autoencoder's does
  const encoder = new Float32Array(items * width);
  for (let h = 0; h < width; h++) for (let i = 0; i < items; i++) encoder[i * width + h] = 2 * w[h * items + i];
  const params: DaeParams = {
    weights: [encoder, w],
    biases: [new Float32Array(width), b],
  };
  const users = (count: number) => {
    const out = new Float32Array(count * width);
    for (let u = 0; u < count; u++) {
      const [c1, c2] = [centroids[Math.floor(rng.next() * clusters)], centroids[Math.floor(rng.next() * clusters)]];
      for (let h = 0; h < width; h++)
        out[u * width + h] = Math.tanh(4 * (0.7 * c1[h] + 0.3 * c2[h]) + (0.5 * rng.normal()) / Math.sqrt(width));
    }
    return out;
  };
  return { config, params, users };
}
