import { useMemo, useState } from 'preact/hooks';
import { gql } from '../api';
import { Chart } from '../components/chart';
import { Confirm } from '../components/confirm';
import { ErrorNote, Loading, TableWrap } from '../components/notes';
import { count, metric, when } from '../format';
import { useLoad } from '../hooks';

type Role = 'CONTROL' | 'CANARY';

interface ArmOnline {
  role: Role;
  version: number;
  answers: number;
  impressions: number;
  positives: number;
  ctr: number | null;
  ctrStandardError: number | null;
}

interface Experiment {
  id: number;
  status: 'RUNNING' | 'PROMOTED' | 'ABORTED';
  traffic: number;
  startedAt: string;
  endedAt: string | null;
  endedReason: string | null;
  controlVersion: number;
  canaryVersion: number;
  arms: Array<{ role: Role; version: number; traffic: number }>;
  online: { arms: ArmOnline[]; ctrDifference: { difference: number; low: number; high: number } | null };
}

interface HourlyCtr {
  version: number;
  buckets: Array<{ start: string; ctr: number | null; impressions: number }>;
}

const FIELDS = `id status traffic startedAt endedAt endedReason controlVersion canaryVersion arms { role version traffic }
  online { arms { role version answers impressions positives ctr ctrStandardError } ctrDifference { difference low high } }`;
const EXPERIMENT = `{ experiment { ${FIELDS} } }`;
const READY = `{ models(limit: 100) { version status } }`;
const HOURLY = `query H($v: Int!, $from: DateTime!) { onlineMetrics(version: $v, from: $from, bucket: HOUR) {
  version buckets { start ctr impressions } } }`;
const START = `mutation S($v: Int!, $t: Float!) { activateModel(version: $v, traffic: $t) { version status } }`;
const PROMOTE = `mutation { promoteExperiment { ${FIELDS} } }`;
const ABORT = `mutation { abortExperiment { ${FIELDS} } }`;

/** onlineMetrics answers at most 744 hours at a time: a longer experiment shows its latest month. */
const MAX_HOURS = 744;
const HOUR_MS = 3_600_000;
const ARM_COLOURS: Record<Role, string> = { CONTROL: '#2f6fb0', CANARY: '#c0532b' };
const percent = (share: number): string => `${+(share * 100).toFixed(1)}%`;

export function Experiments() {
  // counts reach Postgres every few seconds (ONLINE_METRICS_FLUSH_MS): poll while one runs
  // the answer itself, not its field: null data is "not loaded", a null experiment is "none runs"
  const current = useLoad(() => gql<{ experiment: Experiment | null }>(EXPERIMENT), [], {
    pollMs: 5000,
    poll: (d) => d?.experiment?.status === 'RUNNING',
  });
  const [ended, setEnded] = useState<Experiment | null>(null);
  const [asking, setAsking] = useState<'promote' | 'abort' | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const experiment = current.data?.experiment ?? null;

  const end = async (how: 'promote' | 'abort') => {
    setAsking(null);
    setError(null);
    try {
      const data = await gql<{ promoteExperiment?: Experiment; abortExperiment?: Experiment }>(
        how === 'promote' ? PROMOTE : ABORT,
      );
      setEnded(data.promoteExperiment ?? data.abortExperiment ?? null);
      current.reload();
    } catch (err) {
      setError(err as Error);
    }
  };

  if (!current.data) {
    return current.error ? <ErrorNote error={current.error} /> : <Loading what="the running experiment" />;
  }
  return (
    <>
      <ErrorNote error={error ?? current.error} />
      {ended && (
        <p class="notice" role="status" data-testid="experiment-ended">
          Experiment {ended.id} ended {when(ended.endedAt)}: {ended.status.toLowerCase()}
          {ended.endedReason && ended.endedReason !== ended.status.toLowerCase() ? ` (${ended.endedReason})` : ''};
          version {ended.canaryVersion} was the canary.
        </p>
      )}
      {experiment ? (
        <RunningExperiment
          experiment={experiment}
          onPromote={() => setAsking('promote')}
          onAbort={() => setAsking('abort')}
        />
      ) : (
        <>
          <p class="muted" data-testid="no-experiment">
            No experiment is running: every user is answered by the active version.
          </p>
          <StartForm
            onStarted={() => {
              setEnded(null);
              current.reload();
            }}
          />
        </>
      )}
      {asking && experiment && (
        <Confirm
          title={asking === 'promote' ? `Promote version ${experiment.canaryVersion}?` : 'Abort the experiment?'}
          confirmLabel={asking === 'promote' ? `Promote v${experiment.canaryVersion}` : 'Abort experiment'}
          onConfirm={() => void end(asking)}
          onCancel={() => setAsking(null)}
        >
          <p>
            {asking === 'promote'
              ? `Version ${experiment.canaryVersion} will answer every user instead of version ${experiment.controlVersion}.`
              : `Every user will be answered by version ${experiment.controlVersion} again; version ${experiment.canaryVersion} stays READY.`}
          </p>
        </Confirm>
      )}
    </>
  );
}

function RunningExperiment(props: { experiment: Experiment; onPromote: () => void; onAbort: () => void }) {
  const { experiment } = props;
  const diff = experiment.online.ctrDifference;
  const traffic = new Map(experiment.arms.map((a) => [a.role, a.traffic]));
  return (
    <section aria-labelledby="experiment-h" data-testid="experiment" data-status={experiment.status}>
      <h2 id="experiment-h">
        Experiment {experiment.id}: version {experiment.canaryVersion} against {experiment.controlVersion}
      </h2>
      <p>
        {experiment.status.toLowerCase()} since {when(experiment.startedAt)}; the canary answers{' '}
        {percent(experiment.traffic)} of the users.
      </p>
      <TableWrap label="Experiment arms">
        <table data-testid="experiment-arms">
          <thead>
            <tr>
              <th scope="col">arm</th>
              <th scope="col">version</th>
              <th scope="col">traffic</th>
              <th scope="col">answers</th>
              <th scope="col">impressions</th>
              <th scope="col">attributed positives</th>
              <th scope="col">CTR ± standard error</th>
            </tr>
          </thead>
          <tbody>
            {experiment.online.arms.map((arm) => (
              <tr key={arm.role} data-role={arm.role}>
                <th scope="row">{arm.role}</th>
                <td>{arm.version}</td>
                <td class="traffic">{percent(traffic.get(arm.role) ?? 0)}</td>
                <td class="answers">{count(arm.answers)}</td>
                <td class="impressions">{count(arm.impressions)}</td>
                <td class="positives">{count(arm.positives)}</td>
                <td class="ctr">
                  {metric(arm.ctr)}
                  {arm.ctrStandardError != null ? ` ± ${metric(arm.ctrStandardError)}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      <p data-testid="ctr-difference">
        {diff
          ? `CTR difference (canary − control): ${metric(diff.difference)}, 95% interval ${metric(diff.low)} to ${metric(diff.high)}${
              diff.low > 0 ? ': the canary is ahead' : diff.high < 0 ? ': the canary is behind' : ''
            }.`
          : 'CTR difference: not yet, until both arms have impressions from two user groups or more.'}
      </p>
      <CtrOverTime experiment={experiment} />
      <div class="experiment-actions">
        <button type="button" class="primary" onClick={props.onPromote}>
          Promote v{experiment.canaryVersion}
        </button>
        <button type="button" onClick={props.onAbort}>
          Abort experiment
        </button>
      </div>
    </section>
  );
}

/** Each arm's CTR per UTC hour since the experiment started (its version's answers in that hour). */
function CtrOverTime({ experiment }: { experiment: Experiment }) {
  const { startedAt, controlVersion, canaryVersion } = experiment;
  // reloaded with the experiment (each poll), so the lines grow while it runs
  const hourly = useLoad(async () => {
    const earliest = Date.now() - (MAX_HOURS - 1) * HOUR_MS;
    const from = Math.floor(Math.max(Date.parse(startedAt), earliest) / HOUR_MS) * HOUR_MS;
    const arms = await Promise.all(
      [controlVersion, canaryVersion].map((v) =>
        gql<{ onlineMetrics: HourlyCtr }>(HOURLY, { v, from: new Date(from).toISOString() }).then(
          (d) => d.onlineMetrics,
        ),
      ),
    );
    return { from, arms };
  }, [experiment]);

  const data = useMemo(() => {
    if (!hourly.data) return { x: [], ys: [], counted: false };
    const { from, arms } = hourly.data;
    // every hour from the start to the one under way (at least two, so one hour's points have an axis)
    const now = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const x: number[] = [];
    for (let h = from; h <= Math.max(now, from + HOUR_MS); h += HOUR_MS) x.push(h / 1000);
    const lines = arms.map((a) => {
      const byHour = new Map(a.buckets.map((b) => [Date.parse(b.start) / 1000, b]));
      return x.map((h) => byHour.get(h));
    });
    const ys = [
      ...lines.map((hours) => hours.map((b) => b?.ctr ?? null)),
      ...lines.flatMap((hours) => [-1, 1].map((side) => hours.map((b) => bandEdge(b, side)))),
    ];
    return { x, ys, counted: arms.some((a) => a.buckets.length > 0) };
  }, [hourly.data]);

  if (!hourly.data) return hourly.error ? <ErrorNote error={hourly.error} /> : <Loading what="CTR per hour" />;
  if (!data.counted) return <p class="muted">No answers counted yet, so no CTR per hour.</p>;
  return (
    <Chart
      label={`CTR per hour of control version ${controlVersion} and canary version ${canaryVersion}, each hour's 95% interval dashed; totals with clustered standard errors in the table above`}
      x={data.x}
      ys={data.ys}
      series={[
        { label: `control v${controlVersion}`, color: ARM_COLOURS.CONTROL },
        { label: `canary v${canaryVersion}`, color: ARM_COLOURS.CANARY },
        { label: `control v${controlVersion}, 95% per hour`, color: ARM_COLOURS.CONTROL, dash: true },
        { label: `control v${controlVersion}, 95% per hour`, color: ARM_COLOURS.CONTROL, dash: true, unlisted: true },
        { label: `canary v${canaryVersion}, 95% per hour`, color: ARM_COLOURS.CANARY, dash: true },
        { label: `canary v${canaryVersion}, 95% per hour`, color: ARM_COLOURS.CANARY, dash: true, unlisted: true },
      ]}
      xLabel="hour"
      time
    />
  );
}

/**
 * One edge of an hour's 95% interval of its CTR: ±1.96 binomial standard errors, not below 0.
 * It treats the hour's impressions as independent, so it is narrower than the table's interval,
 * which clusters users; it shows how much one hour's figure can move, not a test.
 */
function bandEdge(hour: { ctr: number | null; impressions: number } | undefined, side: number): number | null {
  if (!hour || hour.ctr == null || hour.impressions === 0) return null;
  const p = Math.min(1, hour.ctr);
  const edge = hour.ctr + side * 1.96 * Math.sqrt((p * (1 - p)) / hour.impressions);
  return Math.max(0, edge);
}

/** Picks a READY version and the share of users it answers beside the active one. */
function StartForm({ onStarted }: { onStarted: () => void }) {
  const models = useLoad(() => gql<{ models: Array<{ version: number; status: string }> }>(READY), []);
  const ready = (models.data?.models ?? []).filter((m) => m.status === 'READY');
  const [version, setVersion] = useState<string>('');
  const [traffic, setTraffic] = useState('10');
  const [error, setError] = useState<Error | null>(null);
  const chosen = version || String(ready[0]?.version ?? '');

  const start = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      await gql(START, { v: Number(chosen), t: Number(traffic) / 100 });
      onStarted();
    } catch (err) {
      setError(err as Error);
    }
  };

  if (!models.data) return models.error ? <ErrorNote error={models.error} /> : <Loading what="ready versions" />;
  return (
    <section aria-labelledby="start-h">
      <h2 id="start-h">Start an experiment</h2>
      {ready.length === 0 ? (
        <p class="muted">No READY version to try: train one under Training first.</p>
      ) : (
        <form class="card inline-form" onSubmit={(e) => void start(e)}>
          <label for="experiment-version">Canary version</label>
          <select
            id="experiment-version"
            value={chosen}
            onChange={(e) => setVersion((e.target as HTMLSelectElement).value)}
          >
            {ready.map((m) => (
              <option key={m.version} value={String(m.version)}>
                v{m.version}
              </option>
            ))}
          </select>
          <label for="experiment-traffic">Traffic (% of users)</label>
          <input
            id="experiment-traffic"
            type="number"
            min={1}
            max={99}
            step={1}
            required
            value={traffic}
            onInput={(e) => setTraffic((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="primary">
            Start experiment
          </button>
        </form>
      )}
      <ErrorNote error={error} />
    </section>
  );
}
