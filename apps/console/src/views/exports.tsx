import { useState } from 'preact/hooks';
import { gql } from '../api';
import { ErrorNote, Loading, TableWrap } from '../components/notes';
import { bytes, count, when } from '../format';
import { useLoad } from '../hooks';

interface ExportJob {
  id: string;
  state: 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  kind: 'USER' | 'ITEM';
  format: string;
  version: number | null;
  createdAt: string;
  count: number | null;
  error: string | null;
  progress: { done: number; total: number; percent: number } | null;
  files: Array<{ name: string; bytes: number; sha256: string }>;
}

const JOBS = `{ exportJobs(limit: 20) { id state kind format version createdAt count error
  progress { done total percent } files { name bytes sha256 } } }`;
const START = `mutation E($kind: EmbeddingKind!, $format: ExportFormat!) { exportEmbeddings(kind: $kind, format: $format) { id } }`;
const LINK = `query L($id: ID!, $file: String!) { exportDownloadLink(id: $id, file: $file, seconds: 60) { url } }`;

const unfinished = (jobs: ExportJob[] | null) => !!jobs?.some((j) => j.state === 'QUEUED' || j.state === 'RUNNING');

export function Exports() {
  const jobs = useLoad(() => gql<{ exportJobs: ExportJob[] }>(JOBS).then((d) => d.exportJobs), [], {
    pollMs: 1000,
    poll: unfinished,
  });
  const [kind, setKind] = useState('USER');
  const [format, setFormat] = useState('NPY');
  const [error, setError] = useState<Error | null>(null);

  const start = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      await gql(START, { kind, format });
      jobs.reload();
    } catch (err) {
      setError(err as Error);
    }
  };

  // a signed link good for a minute: the browser downloads it without the key
  const download = async (id: string, file: string) => {
    setError(null);
    try {
      const { exportDownloadLink } = await gql<{ exportDownloadLink: { url: string } }>(LINK, { id, file });
      location.assign(exportDownloadLink.url);
    } catch (err) {
      setError(err as Error);
    }
  };

  return (
    <>
      <form class="card inline-form" onSubmit={(e) => void start(e)}>
        <label for="export-kind">Vectors</label>
        <select id="export-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
          <option value="USER">users</option>
          <option value="ITEM">items</option>
        </select>
        <label for="export-format">Format</label>
        <select id="export-format" value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value)}>
          <option value="NPY">NPY (vectors.npy, ids.txt, map.npy)</option>
          <option value="NDJSON">NDJSON</option>
          <option value="PARQUET">Parquet</option>
        </select>
        <button type="submit" class="primary">
          Export the active version
        </button>
      </form>
      <ErrorNote error={error ?? jobs.error} />
      <section aria-labelledby="exports-h">
        <h2 id="exports-h">Exports</h2>
        {!jobs.data ? (
          <Loading what="exports" />
        ) : jobs.data.length === 0 ? (
          <p class="muted">None yet.</p>
        ) : (
          jobs.data.map((job) => (
            <article class="card" key={job.id} data-testid="export-job" data-state={job.state}>
              <h3>
                Export {job.id}: {job.kind.toLowerCase()} vectors of version {job.version ?? '–'}, {job.format}
              </h3>
              <p class="muted">
                {job.state.toLowerCase()}, asked {when(job.createdAt)}
                {job.count != null ? `; ${count(job.count)} vectors` : ''}
              </p>
              {(job.state === 'RUNNING' || job.state === 'QUEUED') && (
                <progress max={100} value={job.progress?.percent ?? 0} aria-label={`Export ${job.id} progress`} />
              )}
              {job.error && (
                <p class="error" role="alert">
                  {job.error}
                </p>
              )}
              {job.files.length > 0 && (
                <TableWrap label={`Files of export ${job.id}`}>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">file</th>
                        <th scope="col">size</th>
                        <th scope="col">sha256</th>
                      </tr>
                    </thead>
                    <tbody>
                      {job.files.map((f) => (
                        <tr key={f.name}>
                          <td>
                            <button type="button" class="link" onClick={() => void download(job.id, f.name)}>
                              Download {f.name}
                            </button>
                          </td>
                          <td>{bytes(f.bytes)}</td>
                          <td class="mono hash">{f.sha256}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableWrap>
              )}
            </article>
          ))
        )}
      </section>
    </>
  );
}
