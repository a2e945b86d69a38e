import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateSynthetic } from '@app/synthetic';

const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ['-r', '@swc-node/register', join(__dirname, '..', 'scripts/evaluate.ts'), ...args], { cwd: join(__dirname, '..') });

describe('npm run evaluate (e2e)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recoder-eval-'));
  const file = join(dir, 'ratings.csv');

  beforeAll(() => {
    // a seeded world with latent clusters: the DAE has something to learn
    const data = generateSynthetic({ users: 300, items: 120, seed: 4, perUser: 15, clusters: 6 });
    const lines = Array.from(data.user, (u, k) => `u${u},i${data.item[k]},5,${1_700_000_000 + k}`);
    writeFileSync(file, `userId,movieId,rating,timestamp\n${lines.join('\n')}\n`);
  });

  it('ends with one JSON line: every parameter, the means over seeds, and the DAE against EASE paired over test users', async () => {
    const { stdout, stderr } = await run(['--data', file, '--format', 'csv', '--seeds', '1,2', '--epochs', '15', '--patience', '5']);
    expect(stderr).toMatch(/seed 2: dae recall@20/);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]);
    expect(result).toMatchObject({ format: 'csv', seeds: [1, 2], backend: expect.any(String), protocol: { name: 'strong', min_rating: 4, held_out_users: 0.1, fold_in: 0.8 } });
    for (const model of ['dae', 'ease', 'popularity']) expect(Object.keys(result[model])).toEqual(['recall@20', 'recall@20_std', 'recall@50', 'recall@50_std', 'ndcg@100', 'ndcg@100_std']);
    expect(result.dae['ndcg@100']).toBeGreaterThan(result.popularity['ndcg@100']);
    // the paired difference: per user, pooled over both seeds' test users
    const paired = result.dae_minus_ease['ndcg@100'];
    const testUsers = result.per_seed.length * Math.round(result.users * 0.1);
    expect(paired.users).toBeGreaterThanOrEqual(testUsers - 4);
    expect(paired.users).toBeLessThanOrEqual(testUsers + 4);
    expect(paired.se).toBeGreaterThan(0);
    // equal seeds' user counts make the pooled mean the difference of the seeds' means
    expect(paired.mean).toBeCloseTo(result.dae['ndcg@100'] - result.ease['ndcg@100'], 2);
  }, 120_000);

  it('refuses an unknown format with a message and a non-zero exit', async () => {
    await expect(run(['--data', file, '--format', 'xlsx'])).rejects.toMatchObject({ code: expect.any(Number), stderr: expect.stringMatching(/format/) });
  });
});
