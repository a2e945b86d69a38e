import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateSynthetic } from '@app/synthetic';

const run = (args: string[]) =>
  promisify(execFile)(
    process.execPath,
    ['-r', '@swc-node/register', join(__dirname, '..', 'scripts/evaluate.ts'), ...args],
    { cwd: join(__dirname, '..') },
  );

describe('npm run evaluate (e2e)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recoder-eval-'));
  const file = join(dir, 'ratings.csv');
  // 29 validation users: halves of 15 and 14, so scoring the half that picked shows in the counts
  const oddFile = join(dir, 'ratings-290.csv');
  // ratings 1-5: the role thresholds have positives, negatives and ignored ratings to tell apart
  const starsFile = join(dir, 'stars.csv');

  beforeAll(() => {
    // a seeded world with latent clusters: the DAE has something to learn
    const write = (path: string, users: number) => {
      const data = generateSynthetic({ users, items: 120, seed: 4, perUser: 15, clusters: 6 });
      const lines = Array.from(data.user, (u, k) => `u${u},i${data.item[k]},5,${1_700_000_000 + k}`);
      writeFileSync(path, `userId,movieId,rating,timestamp\n${lines.join('\n')}\n`);
    };
    write(file, 300);
    write(oddFile, 290);
    const data = generateSynthetic({ users: 300, items: 120, seed: 4, perUser: 15, clusters: 6 });
    const lines = Array.from(data.user, (u, k) => `u${u},i${data.item[k]},${1 + ((k * 7) % 5)},${1_700_000_000 + k}`);
    writeFileSync(starsFile, `userId,movieId,rating,timestamp\n${lines.join('\n')}\n`);
  });

  it('ends with one JSON line: every parameter, the means over seeds, and the DAE against EASE paired over test users', async () => {
    const { stdout, stderr } = await run([
      '--data',
      file,
      '--format',
      'csv',
      '--seeds',
      '1,2',
      '--epochs',
      '15',
      '--patience',
      '5',
    ]);
    expect(stderr).toMatch(/seed 2: dae recall@20/);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]);
    expect(result).toMatchObject({
      format: 'csv',
      seeds: [1, 2],
      backend: expect.any(String),
      protocol: { name: 'strong', min_rating: 4, held_out_users: 0.1, fold_in: 0.8 },
    });
    for (const model of ['dae', 'ease', 'popularity'])
      expect(Object.keys(result[model])).toEqual([
        'recall@20',
        'recall@20_std',
        'recall@50',
        'recall@50_std',
        'ndcg@100',
        'ndcg@100_std',
      ]);
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

  it('cross-fits validation: each half of the validation users is scored once, by the epoch and λ the other half picked, and test is never scored', async () => {
    const { stdout } = await run([
      '--data',
      oddFile,
      '--format',
      'csv',
      '--seeds',
      '1',
      '--epochs',
      '15',
      '--patience',
      '5',
      '--validation-only',
      '--cross-fit',
    ]);
    const result = JSON.parse(stdout);
    expect(result.test).toMatch(/not scored/);
    expect(result.dae).toBeUndefined();
    const { dae, ease, dae_minus_ease: paired, dae_per_user: perUser } = result.cross_fit;
    // every validation user once, across the two halves
    expect(paired['ndcg@100'].users).toBe(29);
    expect(result.users).toBe(290);
    expect(perUser['ndcg@100']).toHaveLength(paired['ndcg@100'].users);
    const mean = perUser['ndcg@100'].reduce((a: number, b: number) => a + b, 0) / perUser['ndcg@100'].length;
    expect(mean).toBeCloseTo(dae['ndcg@100'], 4);
    expect(paired['ndcg@100'].mean).toBeCloseTo(dae['ndcg@100'] - ease['ndcg@100'], 4);
    expect(dae['ndcg@100']).toBeGreaterThan(0);
  }, 120_000);

  it('with role thresholds, scores every rating as a positive, positives only, and positives with known negatives hidden, paired over the same test users', async () => {
    const { stdout, stderr } = await run([
      '--data',
      starsFile,
      '--format',
      'csv',
      '--positive-min',
      '4',
      '--negative-max',
      '2',
      '--seeds',
      '1',
      '--epochs',
      '5',
      '--patience',
      '0',
    ]);
    expect(stderr).toMatch(/roles \{"POSITIVE":\d+,"NEGATIVE":\d+,"IMPRESSION":0,"IGNORED":\d+\}/);
    const { roles, ratings } = JSON.parse(stdout);
    expect(roles.rule).toEqual({ positive_min: 4, negative_max: 2 });
    // ratings k * 7 mod 5: each of 1-5 a fifth of them
    expect(roles.ratings_by_role.POSITIVE + roles.ratings_by_role.NEGATIVE + roles.ratings_by_role.IGNORED).toBe(
      ratings,
    );
    expect(roles.ratings_by_role.NEGATIVE).toBeCloseTo((2 * ratings) / 5, -1);
    for (const variant of ['all_positive', 'roles', 'roles_hiding', 'popularity'])
      expect(Object.keys(roles[variant])).toEqual(['recall@20', 'recall@50', 'ndcg@100']);
    const hiding = roles.roles_hiding_minus_roles;
    expect(roles.known_negatives.ratings).toBeGreaterThan(0);
    for (const metric of ['recall@20', 'recall@50', 'ndcg@100']) {
      // the same users in every comparison
      expect(hiding[metric].users).toBe(roles.roles_minus_all_positive[metric].users);
      // hiding a non-target can only move targets up: never worse for any user
      expect(hiding[metric].mean).toBeGreaterThanOrEqual(0);
      expect(hiding[metric].mean).toBeCloseTo(roles.roles_hiding[metric] - roles.roles[metric], 4);
    }
    // here a fifth of the ratings are negatives among the scored items: hiding them moves targets up
    expect(hiding['ndcg@100'].mean).toBeGreaterThan(0);
  }, 180_000);

  it('refuses role thresholds that overlap, or go with --min-rating', async () => {
    await expect(
      run(['--data', starsFile, '--format', 'csv', '--positive-min', '3', '--negative-max', '3']),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/--negative-max must be below --positive-min/) });
    await expect(
      run(['--data', starsFile, '--format', 'csv', '--positive-min', '4', '--min-rating', '4']),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/--min-rating does not go with --positive-min/) });
  });

  it('refuses --cross-fit without --validation-only: it would have nothing to say about test', async () => {
    await expect(run(['--data', file, '--format', 'csv', '--cross-fit'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--cross-fit goes with --validation-only/),
    });
  });

  it('refuses an unknown format with a message and a non-zero exit', async () => {
    await expect(run(['--data', file, '--format', 'xlsx'])).rejects.toMatchObject({
      code: expect.any(Number),
      stderr: expect.stringMatching(/format/),
    });
  });
});
