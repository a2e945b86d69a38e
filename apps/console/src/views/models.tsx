import { useMemo, useState } from 'preact/hooks';
import { gql } from '../api';
import { Chart } from '../components/chart';
import { Confirm } from '../components/confirm';
import { MetricsTable } from '../components/metrics-table';
import { ErrorNote, Loading, TableWrap } from '../components/notes';
import { brief, count, metric, text, when } from '../format';
import { useLoad } from '../hooks';

interface Ranking {
  ndcg100: number;
  recall20: number;
  recall50: number;
}

export interface ModelVersion {
  version: number;
  status: 'ACTIVE' | 'CANARY' | 'READY' | 'TRAINING' | 'FAILED' | 'RETIRED';
  createdAt?: string;
  trainedAt: string | null;
  activatedAt: string | null;
  users: number;
  items: number;
  error?: string | null;
  metrics:
    | (Ranking & {
        heldOutUsers: number | null;
        validationUsers?: number | null;
        popularity: Ranking | null;
        gate?: { liveVersion: number; liveNdcg100: number; candidateNdcg100: number; users: number } | null;
      })
    | null;
}

interface ModelDetail extends ModelVersion {
  interactions: number;
  backend: string | null;
  config: Record<string, unknown> & { tune?: TuneSummary };
  timings: Record<string, number>;
  lossCurve: EpochPoint[];
}

export interface EpochPoint {
  epoch: number;
  loss: number;
  ndcg: number | null;
}

interface TuneSummary {
  budgetSeconds: number;
  seconds: number;
  chosen: Record<string, unknown>;
  trials: Array<Record<string, unknown> & { ndcg: number; rung: number; epochs: number }>;
}

const METRICS = `metrics { ndcg100 recall20 recall50 heldOutUsers validationUsers popularity { ndcg100 recall20 recall50 }
  gate { liveVersion liveNdcg100 candidateNdcg100 users } }`;
const MODELS = `{ models(limit: 100) { version status createdAt trainedAt activatedAt users items error ${METRICS} } }`;
const MODEL = `query M($v: Int) { model(version: $v) { version status createdAt trainedAt activatedAt users items interactions
  backend error config timings lossCurve { epoch loss ndcg } ${METRICS} } }`;
const ACTIVATE = `mutation A($v: Int!) { activateModel(version: $v) { version status } }`;

export function Models() {
  const list = useLoad(() => gql<{ models: ModelVersion[] }>(MODELS).then((d) => d.models), []);
  const [selected, setSelected] = useState<number | null>(null);
  const [asking, setAsking] = useState<ModelVersion | null>(null);
  const [activateError, setActivateError] = useState<Error | null>(null);
  const versions = list.data;
  const active = versions?.find((v) => v.status === 'ACTIVE') ?? null;
  const shown = selected ?? active?.version ?? versions?.[0]?.version ?? null;

  const trend = useMemo(() => {
    const measured = (versions ?? []).filter((v) => v.metrics).reverse();
    return {
      x: measured.map((v) => v.version),
      ys: [
        measured.map((v) => v.metrics!.ndcg100),
        measured.map((v) => v.metrics!.popularity?.ndcg100 ?? null),
        measured.map((v) => v.metrics!.recall20),
        measured.map((v) => v.metrics!.popularity?.recall20 ?? null),
      ],
    };
  }, [versions]);

  const activate = async (version: number) => {
    setAsking(null);
    setActivateError(null);
    try {
      await gql(ACTIVATE, { v: version });
      setSelected(version);
      list.reload();
    } catch (err) {
      setActivateError(err as Error);
    }
  };

  if (!versions) return list.error ? <ErrorNote error={list.error} /> : <Loading what="model versions" />;
  if (versions.length === 0) return <p class="notice">No model version yet: start a training under Training.</p>;
  return (
    <>
      <ErrorNote error={list.error ?? activateError} />
      <section aria-labelledby="trend-h">
        <h2 id="trend-h">Metrics across versions</h2>
        {trend.x.length > 0 ? (
          <Chart
            label="NDCG@100 and Recall@20 of each version on its held-out users, beside most-popular's"
            x={trend.x}
            ys={trend.ys}
            series={[
              { label: 'NDCG@100', color: '#2f6fb0' },
              { label: 'NDCG@100, popularity', color: '#2f6fb0', dash: true },
              { label: 'Recall@20', color: '#c0532b' },
              { label: 'Recall@20, popularity', color: '#c0532b', dash: true },
            ]}
            xLabel="version"
            integerX
          />
        ) : (
          <p class="muted">No version has metrics yet.</p>
        )}
      </section>
      <section aria-labelledby="versions-h">
        <h2 id="versions-h">Versions</h2>
        <TableWrap label="Model versions">
          <table data-testid="versions">
            <thead>
              <tr>
                <th scope="col">version</th>
                <th scope="col">status</th>
                <th scope="col">trained</th>
                <th scope="col">NDCG@100 (popularity)</th>
                <th scope="col">Recall@20 (popularity)</th>
                <th scope="col">
                  <span class="sr-only">actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version} data-version={v.version} class={v.version === shown ? 'selected' : undefined}>
                  <th scope="row">{v.version}</th>
                  <td>
                    <span class={`status ${v.status.toLowerCase()}`}>{v.status}</span>
                  </td>
                  <td>{when(v.trainedAt)}</td>
                  <td>
                    {metric(v.metrics?.ndcg100)} ({metric(v.metrics?.popularity?.ndcg100)})
                  </td>
                  <td>
                    {metric(v.metrics?.recall20)} ({metric(v.metrics?.popularity?.recall20)})
                  </td>
                  <td class="actions">
                    <button type="button" onClick={() => setSelected(v.version)} aria-pressed={v.version === shown}>
                      Details<span class="sr-only"> of version {v.version}</span>
                    </button>
                    {v.status === 'READY' && (
                      <button type="button" onClick={() => setAsking(v)}>
                        {active && v.version < active.version ? 'Roll back to' : 'Activate'} v{v.version}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </section>
      {shown !== null && <ModelDetails version={shown} />}
      {asking && (
        <Confirm
          title={`Make version ${asking.version} live?`}
          confirmLabel={`Activate v${asking.version}`}
          onConfirm={() => void activate(asking.version)}
          onCancel={() => setAsking(null)}
        >
          <p>
            Recommendations will come from version {asking.version}
            {active ? ` instead of version ${active.version}` : ''}, in every API process within seconds. NDCG@100{' '}
            {metric(asking.metrics?.ndcg100)}
            {active ? ` against ${metric(active.metrics?.ndcg100)} now` : ''}.
          </p>
        </Confirm>
      )}
    </>
  );
}

function ModelDetails({ version }: { version: number }) {
  const { data, error } = useLoad(() => gql<{ model: ModelDetail | null }>(MODEL, { v: version }), [version]);
  const model = data?.model;
  if (!model) return error ? <ErrorNote error={error} /> : <Loading what={`version ${version}`} />;
  const { tune, ...config } = model.config;
  return (
    <section aria-labelledby="detail-h" data-testid="model-details">
      <h2 id="detail-h">Version {model.version}</h2>
      <p>
        {model.status}; {count(model.users)} users, {count(model.items)} items, {count(model.interactions)}{' '}
        interactions; backend {model.backend ?? '–'}; created {when(model.createdAt)}.
      </p>
      {model.error && <p class="notice">{model.error}</p>}
      <LossChart curve={model.lossCurve} />
      {model.metrics && (
        <MetricsTable
          label="Version metrics"
          metrics={model.metrics}
          caption={
            <>
              Held-out users: {count(model.metrics.heldOutUsers)}; early-stopping users:{' '}
              {count(model.metrics.validationUsers)}
            </>
          }
        />
      )}
      {model.metrics?.gate && (
        <p>
          Quality gate: v{model.metrics.gate.liveVersion} scored {metric(model.metrics.gate.liveNdcg100)} against this
          version&apos;s {metric(model.metrics.gate.candidateNdcg100)} on the same {count(model.metrics.gate.users)}{' '}
          users.
        </p>
      )}
      <h3>Configuration</h3>
      <dl class="config">
        {Object.entries(config).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{text(v)}</dd>
          </div>
        ))}
      </dl>
      <h3>Seconds per phase</h3>
      <p>
        {Object.entries(model.timings)
          .map(([phase, s]) => `${phase} ${s.toFixed(1)}`)
          .join(' · ') || '–'}
      </p>
      {tune && <TuneTrials tune={tune} />}
    </section>
  );
}

export function LossChart({ curve }: { curve: EpochPoint[] }) {
  const data = useMemo(
    () => ({ x: curve.map((p) => p.epoch), ys: [curve.map((p) => p.loss), curve.map((p) => p.ndcg)] }),
    [curve],
  );
  if (curve.length === 0) return <p class="muted">No epochs recorded.</p>;
  return (
    <Chart
      label={`Training loss and validation NDCG@100 over ${curve.length} epochs`}
      x={data.x}
      ys={data.ys}
      series={[
        { label: 'loss', color: '#c0532b' },
        { label: 'validation NDCG@100', color: '#2f6fb0', right: true },
      ]}
      xLabel="epoch"
      integerX
    />
  );
}

function TuneTrials({ tune }: { tune: TuneSummary }) {
  const keys = Object.keys(tune.trials[0] ?? {});
  return (
    <>
      <h3>Search before training</h3>
      <p>
        {tune.trials.length} trials in {tune.seconds.toFixed(0)} of {tune.budgetSeconds} s; chosen: {brief(tune.chosen)}
      </p>
      <TableWrap label="Tuning trials">
        <table>
          <thead>
            <tr>
              {keys.map((k) => (
                <th scope="col" key={k}>
                  {k}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {tune.trials.map((t, i) => (
              <tr key={i}>
                {keys.map((k) => (
                  <td key={k}>{text(t[k])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </>
  );
}
