import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateSynthetic } from '@app/synthetic';

const run = (args: string[]) =>
  promisify(execFile)(
    process.execPath,
    ['-r', '@swc-node/register', join(__dirname, '..', 'scripts/evaluate-suite.ts'), ...args],
    { cwd: join(__dirname, '..') },
  );

describe('npm run evaluate:suite (e2e)', () => {
  // a stand-in for ../shared/data: the suite's file layout, seeded synthetic interactions
  const dataDir = mkdtempSync(join(tmpdir(), 'recoder-suite-'));

  beforeAll(() => {
    mkdirSync(join(dataDir, 'foursquare-sg'));
    const data = generateSynthetic({ users: 250, items: 100, seed: 6, perUser: 20, clusters: 5 });
    const lines = Array.from(data.user, (u, k) => `u${u},i${data.item[k]},${1 + (k % 3)},`);
    writeFileSync(join(dataDir, 'foursquare-sg', 'ratings.csv'), `user,item,weight,timestamp\n${lines.join('\n')}\n`);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs the defaults, a tuned run and the Mult-DAE reference on the same splits and prints one table', async () => {
    const markdown = join(dataDir, 'table.md');
    const { stdout, stderr } = await run([
      '--data-dir',
      dataDir,
      '--datasets',
      'foursquare-sg',
      '--seeds',
      '1,2',
      '--epochs',
      '4',
      '--tune-budget',
      '3',
      '--markdown',
      markdown,
    ]);
    const result = JSON.parse(stdout);
    expect(result.rows.map((r: { model: string }) => r.model)).toEqual(['defaults', 'tuned', 'mult-dae']);
    const [defaults, tuned, reference] = result.rows;
    for (const row of result.rows) {
      // the 10-core filter, then the same data for all three
      expect(row).toMatchObject({
        dataset: 'foursquare-sg',
        protocol: 'user-split',
        users: defaults.users,
        items: defaults.items,
      });
      expect(defaults.users).toBeGreaterThan(150);
      expect(Object.keys(row.dae)).toEqual(['ndcg@10', 'recall@10']);
      expect(row.best_epochs).toHaveLength(2);
    }
    // one split per seed for all three: EASE, fitted on the same rows, scores the same
    expect(tuned.ease).toEqual(defaults.ease);
    expect(reference.ease).toEqual(defaults.ease);
    // tuned - defaults is paired over every test user of both seeds
    const d = tuned.tuned_minus_defaults['ndcg@10'];
    expect(d.users).toBe(defaults.dae_minus_ease['ndcg@10'].users);
    expect(d.mean).toBeCloseTo(tuned.dae['ndcg@10'] - defaults.dae['ndcg@10'], 3);
    expect(tuned.tuned).toHaveLength(2);
    expect(result.mean_user_split['ndcg@10'].dae).toBe(defaults.dae['ndcg@10']);
    const table = readFileSync(markdown, 'utf8');
    expect(table).toContain(`| foursquare-sg (${defaults.users} x ${defaults.items}) |`);
    expect(table).toContain('Tuned within the budget against the defaults');
    expect(stderr).toContain(table.trim().split('\n')[0]);
  }, 240_000);

  it('keeps each run with --runs-dir and reuses it on the next call', async () => {
    const runsDir = join(dataDir, 'runs');
    const args = [
      '--data-dir',
      dataDir,
      '--datasets',
      'foursquare-sg',
      '--seeds',
      '1',
      '--epochs',
      '2',
      '--reference',
      'false',
      '--runs-dir',
      runsDir,
    ];
    const first = JSON.parse((await run(args)).stdout);
    const again = await run(args);
    expect(again.stderr).toContain('foursquare-sg user-split defaults: kept from');
    expect(again.stderr).not.toMatch(/seed 1: dae/);
    expect(JSON.parse(again.stdout).rows).toEqual(first.rows);
  }, 120_000);

  it('refuses an unknown dataset, naming the known ones', async () => {
    await expect(run(['--data-dir', dataDir, '--datasets', 'netflix'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/unknown dataset\(s\) netflix \(known: ml-100k, .*yelp-hin\)/),
    });
  });
});
