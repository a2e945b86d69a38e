import { useEffect, useMemo, useState } from 'preact/hooks';
import { gql } from '../api';
import { Chart } from '../components/chart';
import { ErrorNote, Loading, NeedsScope, TableWrap } from '../components/notes';
import { brief, count, metric, when } from '../format';
import { useLoad } from '../hooks';
import { can, Identity } from '../session';

interface UserAnswer {
  user?: {
    id: string;
    createdAt: string;
    interactionCount: number;
    interactions: { items: Array<{ itemId: string; type: string; weight: number; occurredAt: string }> };
  } | null;
  userAnomaly?: { score: number; percentile: number; version: number; source: string } | null;
  recommendations?: {
    source: string;
    modelVersion: number | null;
    preview: boolean;
    items: Array<{ score: number; item: { id: string; attributes: Record<string, unknown> } }>;
  };
}

/** Only the parts the key's scopes allow are asked for: a serve key sees recommendations, not history. */
function lookup(admin: boolean, serve: boolean): string {
  return `query U($id: ID!) {
    ${admin ? 'user(id: $id) { id createdAt interactionCount interactions(limit: 50) { items { itemId type weight occurredAt } } }' : ''}
    ${admin ? 'userAnomaly(userId: $id) { score percentile version source }' : ''}
    ${serve ? 'recommendations(userId: $id, limit: 20, preview: true) { source modelVersion preview items { score item { id attributes } } }' : ''}
  }`;
}

const ANOMALOUS = `{ anomalousUsers(limit: 20) { userId score percentile }
  anomalyHistogram(bins: 30) { version users bins { from to users } } }`;

export function Users({ identity, param }: { identity: Identity; param: string }) {
  const admin = can(identity, 'admin');
  const serve = can(identity, 'serve');
  const [draft, setDraft] = useState(param);
  useEffect(() => setDraft(param), [param]);
  const go = (event: Event) => {
    event.preventDefault();
    if (draft.trim()) location.hash = `#/users/${encodeURIComponent(draft.trim())}`;
  };
  return (
    <>
      <form class="card inline-form" onSubmit={go} role="search">
        <label for="user-id">User id</label>
        <input id="user-id" value={draft} onInput={(e) => setDraft((e.target as HTMLInputElement).value)} required />
        <button type="submit" class="primary">
          Look up
        </button>
      </form>
      {param && <UserDetails id={param} admin={admin} serve={serve} />}
      {admin ? <MostAnomalous /> : <NeedsScope scope="admin">History and anomaly scores are admin data.</NeedsScope>}
    </>
  );
}

function UserDetails({ id, admin, serve }: { id: string; admin: boolean; serve: boolean }) {
  const { data, error } = useLoad(() => gql<UserAnswer>(lookup(admin, serve), { id }), [id, admin, serve]);
  if (!data) return error ? <ErrorNote error={error} /> : <Loading what={`user ${id}`} />;
  const { user, userAnomaly, recommendations } = data;
  return (
    <section aria-labelledby="user-h" data-testid="user-details">
      <h2 id="user-h">User {id}</h2>
      {admin && !user && <p class="notice">recoder has never seen this user.</p>}
      {user && (
        <p>
          {count(user.interactionCount)} interactions; first seen {when(user.createdAt)}.
          {userAnomaly
            ? ` Anomaly score ${metric(userAnomaly.score, 3)}, percentile ${userAnomaly.percentile.toFixed(1)} of version ${userAnomaly.version} (${userAnomaly.source === 'EMBEDDING' ? 'scored at training' : 'scored now'}).`
            : ' No anomaly score (no model, or no known item).'}
        </p>
      )}
      <div class="columns">
        {recommendations && (
          <div>
            <h3>Recommendations</h3>
            <p class="muted">
              Source {recommendations.source}, version {recommendations.modelVersion ?? '–'}; asked as a preview.
            </p>
            <ol data-testid="user-recommendations">
              {recommendations.items.map((r) => (
                <li key={r.item.id}>
                  <strong>{r.item.id}</strong> {metric(r.score, 3)} <span class="mono">{brief(r.item.attributes)}</span>
                </li>
              ))}
            </ol>
          </div>
        )}
        {user && (
          <div>
            <h3>History (newest 50)</h3>
            <TableWrap label="History">
              <table>
                <thead>
                  <tr>
                    <th scope="col">item</th>
                    <th scope="col">type</th>
                    <th scope="col">weight</th>
                    <th scope="col">when</th>
                  </tr>
                </thead>
                <tbody>
                  {user.interactions.items.map((x, i) => (
                    <tr key={i}>
                      <td>{x.itemId}</td>
                      <td>{x.type}</td>
                      <td>{x.weight}</td>
                      <td>{when(x.occurredAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </div>
        )}
      </div>
    </section>
  );
}

interface AnomalyData {
  anomalousUsers: Array<{ userId: string; score: number; percentile: number }>;
  anomalyHistogram: { version: number; users: number; bins: Array<{ from: number; to: number; users: number }> } | null;
}

function MostAnomalous() {
  const { data, error } = useLoad(() => gql<AnomalyData>(ANOMALOUS), []);
  const histogram = useMemo(() => {
    const bins = data?.anomalyHistogram?.bins ?? [];
    return { x: bins.map((b) => (b.from + b.to) / 2), ys: [bins.map((b) => b.users)] };
  }, [data]);
  if (!data) return error ? <ErrorNote error={error} /> : <Loading what="anomaly scores" />;
  const h = data.anomalyHistogram;
  return (
    <section aria-labelledby="anomalous-h">
      <h2 id="anomalous-h">Anomaly scores</h2>
      {!h || h.users === 0 ? (
        <p class="muted">No scores yet: they are computed when a version is trained.</p>
      ) : (
        <>
          <p class="muted">
            {count(h.users)} users of version {h.version}: reconstruction loss per item (bots and shilling score high).
          </p>
          <Chart
            label={`Histogram of anomaly scores of ${h.users} users`}
            x={histogram.x}
            ys={histogram.ys}
            series={[{ label: 'users per score bin', color: '#6a4c93', bars: true }]}
            xLabel="score"
            height={180}
          />
        </>
      )}
      <h3>Most anomalous</h3>
      <TableWrap label="Most anomalous users">
        <table data-testid="anomalous-users">
          <thead>
            <tr>
              <th scope="col">user</th>
              <th scope="col">score</th>
              <th scope="col">percentile</th>
            </tr>
          </thead>
          <tbody>
            {data.anomalousUsers.map((u) => (
              <tr key={u.userId}>
                <td>
                  <a href={`#/users/${encodeURIComponent(u.userId)}`}>{u.userId}</a>
                </td>
                <td>{metric(u.score, 3)}</td>
                <td>{u.percentile.toFixed(1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </section>
  );
}
