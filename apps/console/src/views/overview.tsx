import { useMemo } from 'preact/hooks';
import { gql } from '../api';
import { Chart } from '../components/chart';
import { MetricsTable } from '../components/metrics-table';
import { ErrorNote, Loading, TableWrap } from '../components/notes';
import { count, when } from '../format';
import { useLoad } from '../hooks';
import type { ModelVersion } from './models';

interface OverviewData {
  stats: { users: number; items: number; interactions: number; newestInteractionAt: string | null };
  ingestRate: Array<{ hour: string; interactions: number }>;
  model: ModelVersion | null;
  queues: Array<{
    name: string;
    paused: boolean;
    waiting: number;
    active: number;
    delayed: number;
    completed: number;
    failed: number;
  }>;
}

const OVERVIEW = `{
  stats { users items interactions newestInteractionAt }
  ingestRate(hours: 24) { hour interactions }
  model { version status trainedAt activatedAt users items
    metrics { ndcg100 recall20 recall50 heldOutUsers popularity { ndcg100 recall20 recall50 } } }
  queues { name paused waiting active delayed completed failed }
}`;

export function Overview() {
  const { data, error, loading } = useLoad(() => gql<OverviewData>(OVERVIEW), [], { pollMs: 15_000 });
  const rate = useMemo(
    () =>
      data && {
        x: data.ingestRate.map((h) => Date.parse(h.hour) / 1000),
        ys: [data.ingestRate.map((h) => h.interactions)],
      },
    [data],
  );
  if (!data) return error ? <ErrorNote error={error} /> : <Loading what="the overview" />;
  const { stats, model, queues } = data;
  const lastHour = data.ingestRate[data.ingestRate.length - 1]?.interactions ?? 0;
  return (
    <>
      <ErrorNote error={error} />
      <section aria-labelledby="counts-h">
        <h2 id="counts-h">Store</h2>
        <dl class="tiles">
          <div>
            <dt>Users</dt>
            <dd>{count(stats.users)}</dd>
          </div>
          <div>
            <dt>Items</dt>
            <dd>{count(stats.items)}</dd>
          </div>
          <div>
            <dt>Interactions</dt>
            <dd>{count(stats.interactions)}</dd>
          </div>
          <div>
            <dt>Newest interaction</dt>
            <dd class="small">{when(stats.newestInteractionAt)}</dd>
          </div>
        </dl>
      </section>
      <section aria-labelledby="ingest-h">
        <h2 id="ingest-h">Ingest, last 24 hours</h2>
        <p class="muted">
          Interactions recorded per hour (this hour so far: {count(lastHour)}; 24 hours:{' '}
          {count(data.ingestRate.reduce((s, h) => s + h.interactions, 0))}).
        </p>
        {rate && (
          <Chart
            label="Interactions recorded per hour over the last 24 hours"
            x={rate.x}
            ys={rate.ys}
            series={[{ label: 'interactions per hour', color: '#2f6fb0', bars: true }]}
            xLabel="hour"
            time
            height={180}
          />
        )}
      </section>
      <section aria-labelledby="model-h">
        <h2 id="model-h">Active model</h2>
        {model ? (
          <div class="card" data-testid="active-model">
            <p>
              Version <strong data-testid="active-version">{model.version}</strong> ({model.status}), trained{' '}
              {when(model.trainedAt)} on {count(model.users)} users and {count(model.items)} items; live since{' '}
              {when(model.activatedAt)}.
            </p>
            {model.metrics && (
              <MetricsTable
                label="Active model metrics"
                metrics={model.metrics}
                caption={<>Held-out users ({count(model.metrics.heldOutUsers)}), against most-popular</>}
              />
            )}
          </div>
        ) : (
          <p class="notice">No model is live yet: start one under Training.</p>
        )}
      </section>
      <section aria-labelledby="queues-h">
        <h2 id="queues-h">Queues</h2>
        <TableWrap label="Queues">
          <table>
            <thead>
              <tr>
                <th scope="col">queue</th>
                <th scope="col">waiting</th>
                <th scope="col">active</th>
                <th scope="col">delayed</th>
                <th scope="col">completed</th>
                <th scope="col">failed</th>
              </tr>
            </thead>
            <tbody>
              {queues.map((q) => (
                <tr key={q.name}>
                  <th scope="row">
                    {q.name}
                    {q.paused ? ' (paused)' : ''}
                  </th>
                  <td>{count(q.waiting)}</td>
                  <td>{count(q.active)}</td>
                  <td>{count(q.delayed)}</td>
                  <td>{count(q.completed)}</td>
                  <td>{count(q.failed)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
        <p>
          <a href="/admin/queues" target="_blank" rel="noopener">
            Bull Board
          </a>{' '}
          (the queues&apos; jobs, through this login&apos;s session cookie) ·{' '}
          <a href="/metrics" target="_blank" rel="noopener">
            Prometheus metrics
          </a>
        </p>
      </section>
      {loading && <span class="sr-only">refreshing</span>}
    </>
  );
}
