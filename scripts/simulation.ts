import { createHash } from 'node:crypto';
import { ArmCtr, armCtr, ctrDifference, UserClicks } from '@app/feedback';
import { createRng } from '@app/random';
import {
  clickProbability,
  generateSynthetic,
  INTERACTION_TYPES,
  SyntheticInteractions,
  syntheticItemId,
  syntheticUserId,
} from '@app/synthetic';

/** A population of synthetic users driving a recoder API over HTTP; see `npm run simulate`. */
export interface SimulationOptions {
  /** The API's base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** An admin key (setup, the experiment query); the simulated users' own requests use it too. */
  key: string | undefined;
  users: number;
  items: number;
  perUser: number;
  seed: number;
  rounds: number;
  /** Items asked for per answer. */
  limit: number;
  /** The chance a user dislikes (a NEGATIVE event) an item shown that they did not click. */
  dislike: number;
  /** Requests in flight at once. */
  concurrency: number;
  /**
   * Set up the acceptance scenario first: record the population's history, declare `click` and
   * `dislike`, train a model, then a deliberately worse one (the same data with each user's items
   * shuffled) as a CANARY for `traffic` of the users.
   */
  setup: boolean;
  traffic: number;
  /** Training overrides for both setup trainings (epochs, embeddingDim, ...). */
  training: Record<string, unknown>;
  /** Where each JSON line goes. */
  out: (line: Record<string, unknown>) => void;
}

export const CLICK_TYPE = 'click';
export const DISLIKE_TYPE = 'dislike';
/** Events per recordInteractions call: well inside the API's body limit. */
const EVENT_BATCH = 5000;
const TRAINING_POLL_MS = 500;
/** How long a new canary may take to be loaded by the API (a large model reads for a few seconds). */
const SERVED_WAIT_MS = 120_000;
/** How long the API may take to write what it counted (ONLINE_METRICS_FLUSH_MS, 5 s by default). */
const COUNTED_WAIT_MS = 60_000;

interface Answer {
  modelVersion: number | null;
  recommendationId: string | null;
  items: { item: { id: string } }[];
}

/** The API's own online metrics of an experiment's arms (`experiment { online }`). */
export interface ExperimentOnline {
  arms: {
    role: string;
    version: number;
    answers: number;
    impressions: number;
    positives: number;
    ctr: number | null;
  }[];
  ctrDifference: { difference: number; low: number; high: number } | null;
}

interface TrainingJob {
  state: string;
  error: string | null;
  modelVersion: { version: number; status: string };
}

interface ExperimentArms {
  id: number;
  arms: { role: string; version: number }[];
}

/** Seeds, then rounds of asking, clicking and disliking; per-arm CTR after each round. */
export async function runSimulation(opts: SimulationOptions): Promise<void> {
  const api = new ApiClient(opts.url, opts.key);
  const data = generateSynthetic({ users: opts.users, items: opts.items, seed: opts.seed, perUser: opts.perUser });
  if (opts.setup) opts.out({ setup: await setUpExperiment(api, data, opts) });
  const experiment = await api.experiment();
  // per arm (the version an answer names), per user: what they were shown and clicked
  const arms = new Map<number | null, Map<number, UserClicks>>();
  let reported = 0;
  for (let round = 1; round <= opts.rounds; round++) {
    const events: object[] = [];
    await inPool(opts.users, opts.concurrency, async (u) => {
      const answer = await api.recommendations(syntheticUserId(u), opts.limit);
      const rng = createRng(seedOf(opts.seed, round, u));
      const mine = arms.get(answer.modelVersion) ?? new Map<number, UserClicks>();
      arms.set(answer.modelVersion, mine);
      const counts = mine.get(u) ?? { shown: 0, clicks: 0 };
      mine.set(u, counts);
      // every item of the answer is shown: reported as its impressions, and clicks name the answer
      const shown = answer.items.map(({ item }) => item.id).filter((id) => itemIndexOf(id, data.items) !== null);
      if (answer.recommendationId && shown.length) {
        await api.reportImpressions(answer.recommendationId, shown);
        reported += shown.length;
      }
      for (const { item } of answer.items) {
        const i = itemIndexOf(item.id, data.items);
        if (i === null) continue;
        counts.shown++;
        const event = {
          userId: syntheticUserId(u),
          itemId: item.id,
          eventId: `sim-${opts.seed}-${round}-${u}-${i}`,
          recommendationId: answer.recommendationId,
        };
        if (rng.next() < clickProbability(data, u, i)) {
          counts.clicks++;
          events.push({ ...event, type: CLICK_TYPE });
        } else if (rng.next() < opts.dislike) events.push({ ...event, type: DISLIKE_TYPE });
      }
    });
    // the API sees this round's clicks before the next asks: users move on as real ones do
    for (let start = 0; start < events.length; start += EVENT_BATCH)
      await api.record(events.slice(start, start + EVENT_BATCH));
    for (const line of roundLines(round, arms, experiment)) opts.out(line);
  }
  // the API's view of the same experiment, from its attributed online metrics
  if (experiment && reported > 0) opts.out({ online: await api.experimentOnline(experiment.id, reported) });
}

/** Each arm's cumulative CTR, then (with an experiment's two arms) control minus canary with its 95% interval. */
function roundLines(
  round: number,
  arms: Map<number | null, Map<number, UserClicks>>,
  experiment: ExperimentArms | null,
): Record<string, unknown>[] {
  const roleOf = (version: number | null) => experiment?.arms.find((a) => a.version === version)?.role ?? null;
  const ctrs = new Map<number | null, ArmCtr>();
  const lines: Record<string, unknown>[] = [];
  for (const [version, users] of [...arms].sort(([a], [b]) => (a ?? 0) - (b ?? 0))) {
    const ctr = armCtr([...users.values()]);
    ctrs.set(version, ctr);
    lines.push({ round, arm: roleOf(version), version, ...ctr, ctr: round6(ctr.ctr), se: round6(ctr.se) });
  }
  const control = experiment?.arms.find((a) => a.role === 'CONTROL');
  const canary = experiment?.arms.find((a) => a.role === 'CANARY');
  const a = control && ctrs.get(control.version);
  const b = canary && ctrs.get(canary.version);
  if (control && canary && a && b) {
    const { difference, low, high } = ctrDifference(a, b);
    lines.push({
      round,
      compare: 'CONTROL - CANARY',
      versions: [control.version, canary.version],
      difference: round6(difference),
      ci95: [round6(low), round6(high)],
    });
  }
  return lines;
}

async function setUpExperiment(
  api: ApiClient,
  data: SyntheticInteractions,
  opts: SimulationOptions,
): Promise<Record<string, unknown>> {
  await api.call(`mutation { setFeedbackType(input: { type: "${CLICK_TYPE}", role: POSITIVE }) { type } }`);
  await api.call(`mutation { setFeedbackType(input: { type: "${DISLIKE_TYPE}", role: NEGATIVE }) { type } }`);
  // event ids: setting up again on the same API records nothing twice
  const history = Array.from(data.user, (u, k) => ({
    userId: syntheticUserId(u),
    itemId: syntheticItemId(data.item[k]),
    type: INTERACTION_TYPES[data.type[k]],
    occurredAt: new Date(data.occurredAt[k] * 1000).toISOString(),
    eventId: `sim-${opts.seed}-history-${k}`,
  }));
  for (let start = 0; start < history.length; start += EVENT_BATCH)
    await api.record(history.slice(start, start + EVENT_BATCH));
  if (await api.experiment()) await api.call(`mutation { abortExperiment { id } }`);
  const config = { seed: opts.seed, ...opts.training };
  const trained = await api.train(config);
  const shuffled = await api.train({ ...config, shuffleItems: true, canary: opts.traffic });
  await untilServed(api, shuffled.version, opts.users);
  return { events: history.length, trained, shuffled, traffic: opts.traffic };
}

/** Waits until the API answers some user from `version` (it loads a new canary within moments of its start). */
async function untilServed(api: ApiClient, version: number, users: number): Promise<void> {
  const deadline = Date.now() + SERVED_WAIT_MS;
  while (Date.now() < deadline) {
    for (let u = 0; u < Math.min(users, 50); u++)
      if ((await api.recommendations(syntheticUserId(u), 1)).modelVersion === version) return;
    await new Promise((r) => setTimeout(r, TRAINING_POLL_MS));
  }
  throw new Error(`the API did not answer from v${version} within ${SERVED_WAIT_MS / 1000} s`);
}

/** The few GraphQL calls the simulation makes, over HTTP as any client's. */
class ApiClient {
  constructor(
    private readonly url: string,
    private readonly key: string | undefined,
  ) {}

  async call<T = unknown>(query: string, variables: object = {}): Promise<T> {
    const res = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.key && { authorization: `Bearer ${this.key}` }) },
      body: JSON.stringify({ query, variables }),
    }).catch((err: Error) => {
      throw new Error(`cannot reach the API at ${this.url} (start it, or pass --url): ${err.message}`);
    });
    const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    if (body.errors?.length || !body.data) {
      const error = body.errors?.[0];
      throw new Error(`${error?.extensions?.code ?? `HTTP ${res.status}`}: ${error?.message ?? 'no data'}`);
    }
    return body.data;
  }

  async recommendations(userId: string, limit: number): Promise<Answer> {
    const query = `query R($u: ID!, $l: Int!) { recommendations(userId: $u, limit: $l) { modelVersion recommendationId items { item { id } } } }`;
    return (await this.call<{ recommendations: Answer }>(query, { u: userId, l: limit })).recommendations;
  }

  async reportImpressions(recommendationId: string, itemIds: string[]): Promise<void> {
    const query = `mutation I($r: String!, $i: [ID!]!) { reportImpressions(recommendationId: $r, itemIds: $i) { accepted } }`;
    await this.call(query, { r: recommendationId, i: itemIds });
  }

  /** The experiment's online metrics once the API has written at least `impressions` of its arms' impressions. */
  async experimentOnline(id: number, impressions: number): Promise<ExperimentOnline> {
    const query = `query E($id: Int) { experiment(id: $id) { online {
      arms { role version answers impressions positives ctr }
      ctrDifference { difference low high } } } }`;
    const deadline = Date.now() + COUNTED_WAIT_MS;
    for (;;) {
      const { experiment } = await this.call<{ experiment: { online: ExperimentOnline } }>(query, { id });
      const counted = experiment.online.arms.reduce((a, arm) => a + arm.impressions, 0);
      if (counted >= impressions || Date.now() > deadline) return experiment.online;
      await new Promise((r) => setTimeout(r, TRAINING_POLL_MS));
    }
  }

  async record(events: object[]): Promise<void> {
    const query = `mutation M($e: [InteractionInput!]!) { recordInteractions(input: $e) { accepted } }`;
    await this.call(query, { e: events });
  }

  async experiment(): Promise<ExperimentArms | null> {
    return (await this.call<{ experiment: ExperimentArms | null }>(`{ experiment { id arms { role version } } }`))
      .experiment;
  }

  /** A forced retrain, waited for: its version and status. */
  async train(config: Record<string, unknown>): Promise<{ version: number; status: string }> {
    const started = await this.call<{ retrain: { id: string } }>(
      `mutation R($c: TrainingConfigInput) { retrain(config: $c, force: true) { id } }`,
      { c: config },
    );
    const query = `query J($id: ID!) { trainingJob(id: $id) { state error modelVersion { version status } } }`;
    for (;;) {
      const { trainingJob: job } = await this.call<{ trainingJob: TrainingJob }>(query, { id: started.retrain.id });
      if (job.state === 'COMPLETED') return job.modelVersion;
      if (job.state === 'FAILED') throw new Error(`training failed: ${job.error}`);
      await new Promise((r) => setTimeout(r, TRAINING_POLL_MS));
    }
  }
}

/** Runs work(0..n-1) with at most `concurrency` in flight. */
async function inPool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
}

/** A user's draws in a round depend only on the seed, the round and the user, never on the order answers came in. */
function seedOf(seed: number, round: number, user: number): number {
  return createHash('sha256').update(`${seed}:${round}:${user}`).digest().readUInt32LE(0);
}

function itemIndexOf(id: string, items: number): number | null {
  const match = /^i(\d+)$/.exec(id);
  const i = match ? Number(match[1]) : NaN;
  return Number.isInteger(i) && i < items ? i : null;
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
