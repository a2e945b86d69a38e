import { useState } from 'preact/hooks';
import { gql } from '../api';
import { ErrorNote, Loading, TableWrap } from '../components/notes';
import { brief, metric, when } from '../format';
import { useLoad } from '../hooks';
import { EpochPoint, LossChart } from './models';

type JobState = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';

interface TrainingJob {
  id: string;
  state: JobState;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  force: boolean;
  config: Record<string, unknown>;
  progress: {
    phase: string;
    percent: number;
    epoch: number | null;
    epochs: number | null;
    loss: number | null;
    ndcg: number | null;
  } | null;
  modelVersion: {
    version: number;
    status: string;
    error: string | null;
    lossCurve?: EpochPoint[];
    metrics?: { ndcg100: number; popularity: { ndcg100: number } | null } | null;
  } | null;
}

const JOB_FIELDS = `id state createdAt startedAt finishedAt error force config
  progress { phase percent epoch epochs loss ndcg }`;
const JOBS = `{ trainingJobs(limit: 10) { ${JOB_FIELDS} modelVersion { version status error } } }`;
const JOB = `query J($id: ID!) { trainingJob(id: $id) { ${JOB_FIELDS}
  modelVersion { version status error lossCurve { epoch loss ndcg } metrics { ndcg100 popularity { ndcg100 } } } } }`;
const RETRAIN = `mutation R($config: TrainingConfigInput, $force: Boolean!) { retrain(config: $config, force: $force) { id state } }`;

const unfinished = (job: TrainingJob | null | undefined) => job?.state === 'QUEUED' || job?.state === 'RUNNING';

export function Training() {
  const jobs = useLoad(() => gql<{ trainingJobs: TrainingJob[] }>(JOBS).then((d) => d.trainingJobs), [], {
    pollMs: 3000,
    poll: (list) => !!list?.some(unfinished),
  });
  const [started, setStarted] = useState<string | null>(null);
  // a reload finds the queued or running job, so it is watched rather than a second one started
  const watched = started ?? jobs.data?.find(unfinished)?.id ?? jobs.data?.[0]?.id ?? null;

  return (
    <>
      <ErrorNote error={jobs.error} />
      {watched && (
        <JobProgress
          // another job: a fresh view of it, not the last one's figures meanwhile
          key={watched}
          id={watched}
          onFinished={() => {
            jobs.reload();
          }}
        />
      )}
      <RetrainForm
        running={!!jobs.data?.some(unfinished)}
        onStarted={(id) => {
          setStarted(id);
          jobs.reload();
        }}
      />
      <section aria-labelledby="jobs-h">
        <h2 id="jobs-h">Recent trainings</h2>
        {!jobs.data ? (
          <Loading what="training jobs" />
        ) : jobs.data.length === 0 ? (
          <p class="muted">None yet.</p>
        ) : (
          <TableWrap label="Recent trainings">
            <table>
              <thead>
                <tr>
                  <th scope="col">job</th>
                  <th scope="col">state</th>
                  <th scope="col">asked</th>
                  <th scope="col">finished</th>
                  <th scope="col">version</th>
                  <th scope="col">configuration</th>
                </tr>
              </thead>
              <tbody>
                {jobs.data.map((job) => (
                  <tr key={job.id}>
                    <th scope="row">{job.id}</th>
                    <td>
                      <span class={`status ${job.state.toLowerCase()}`}>{job.state}</span>
                    </td>
                    <td>{when(job.createdAt)}</td>
                    <td>{when(job.finishedAt)}</td>
                    <td>{job.modelVersion ? `v${job.modelVersion.version} ${job.modelVersion.status}` : '–'}</td>
                    <td class="mono">
                      {brief(job.config)}
                      {job.force ? ' force' : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </>
  );
}

function JobProgress({ id, onFinished }: { id: string; onFinished: () => void }) {
  const { data, error } = useLoad<TrainingJob | null>(
    async () => {
      const job = (await gql<{ trainingJob: TrainingJob | null }>(JOB, { id })).trainingJob;
      if (job && !unfinished(job)) onFinished();
      return job;
    },
    [id],
    { pollMs: 1000, poll: unfinished },
  );
  if (!data) return error ? <ErrorNote error={error} /> : <Loading what={`training job ${id}`} />;
  const job = data;
  const p = job.progress;
  const percent = job.state === 'COMPLETED' ? 100 : (p?.percent ?? 0);
  const phase = job.state === 'COMPLETED' ? 'done' : (p?.phase ?? (job.state === 'QUEUED' ? 'queued' : '…'));
  return (
    <section aria-labelledby="progress-h" data-testid="training-progress" data-job={job.id} data-state={job.state}>
      <h2 id="progress-h">
        Training job {job.id}: {job.state.toLowerCase()}
      </h2>
      <div class="progress-row">
        <progress id="train-progress" max={100} value={percent} aria-label={`Training job ${job.id} progress`} />
        <span data-testid="training-phase">
          {phase} {percent.toFixed(0)}%
        </span>
      </div>
      <p class="muted">
        {[
          p?.epoch ? `epoch ${p.epoch}${p.epochs ? ` of at most ${p.epochs}` : ''}, loss ${metric(p.loss, 2)}` : '',
          p?.ndcg != null ? `validation NDCG@100 ${metric(p.ndcg)}` : '',
          job.startedAt ? `started ${when(job.startedAt)}` : '',
          job.finishedAt ? `finished ${when(job.finishedAt)}` : '',
        ]
          .filter(Boolean)
          .join(' · ')}
      </p>
      {job.state === 'FAILED' && (
        <p class="error" role="alert" data-testid="training-error">
          Failed: {job.error ?? 'no reason given'}
        </p>
      )}
      {job.modelVersion && (
        <>
          <p data-testid="training-version">
            Version {job.modelVersion.version}: {job.modelVersion.status}
            {job.modelVersion.metrics
              ? `, NDCG@100 ${metric(job.modelVersion.metrics.ndcg100)} (popularity ${metric(job.modelVersion.metrics.popularity?.ndcg100)})`
              : ''}
            {job.modelVersion.error ? `. ${job.modelVersion.error}` : ''}
          </p>
          <LossChart curve={job.modelVersion.lossCurve ?? []} />
        </>
      )}
    </section>
  );
}

interface Field {
  name: string;
  label: string;
  hint: string;
  kind: 'int' | 'float' | 'ints' | 'choice';
  min?: number;
  max?: number;
  step?: string;
  choices?: string[];
}

const FIELDS: Field[] = [
  { name: 'epochs', label: 'Epochs (most)', hint: '1–1000', kind: 'int', min: 1, max: 1000 },
  {
    name: 'patience',
    label: 'Patience',
    hint: 'epochs without a better validation NDCG; 0: never stop',
    kind: 'int',
    min: 0,
    max: 1000,
  },
  { name: 'embeddingDim', label: 'Embedding size', hint: '2–2048', kind: 'int', min: 2, max: 2048 },
  { name: 'hidden', label: 'Hidden widths', hint: 'comma-separated, e.g. 600 or 600,200', kind: 'ints' },
  { name: 'dropout', label: 'Input dropout', hint: '0–0.95', kind: 'float', min: 0, max: 0.95, step: '0.01' },
  {
    name: 'learningRate',
    label: 'Learning rate',
    hint: 'above 0, at most 1',
    kind: 'float',
    min: 0,
    max: 1,
    step: 'any',
  },
  { name: 'weightDecay', label: 'Weight decay', hint: '0–1', kind: 'float', min: 0, max: 1, step: 'any' },
  { name: 'batchSize', label: 'Batch size', hint: '1–100000', kind: 'int', min: 1, max: 100000 },
  {
    name: 'seed',
    label: 'Seed',
    hint: 'the held-out users and initial weights',
    kind: 'int',
    min: 0,
    max: 2 ** 31 - 1,
  },
  {
    name: 'loss',
    label: 'Loss',
    hint: 'multinomial (Mult-DAE) or logistic (CDAE)',
    kind: 'choice',
    choices: ['multinomial', 'logistic'],
  },
  { name: 'activation', label: 'Activation', hint: '', kind: 'choice', choices: ['tanh', 'relu', 'sigmoid', 'linear'] },
  {
    name: 'itemTerm',
    label: 'Linear item term',
    hint: 'default: when it validates better',
    kind: 'choice',
    choices: ['on', 'off'],
  },
  {
    name: 'tune',
    label: 'Search first (seconds)',
    hint: '10–86400 on validation users; empty: none',
    kind: 'int',
    min: 10,
    max: 86400,
  },
];

/** The form's text into TrainingConfigInput: empty fields are left out (the defaults). */
function configOf(values: Record<string, string>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const raw = values[f.name]?.trim();
    if (!raw) continue;
    if (f.name === 'tune') config.tune = { budgetSeconds: Number(raw) };
    else if (f.name === 'itemTerm') config.itemTerm = raw === 'on';
    else if (f.kind === 'ints') config.hidden = raw.split(',').map((w) => Number(w.trim()));
    else if (f.kind === 'choice') config[f.name] = raw;
    else config[f.name] = Number(raw);
  }
  return config;
}

function RetrainForm({ running, onStarted }: { running: boolean; onStarted: (id: string) => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [force, setForce] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: string) => setValues((v) => ({ ...v, [name]: value }));

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { retrain } = await gql<{ retrain: { id: string } }>(RETRAIN, { config: configOf(values), force });
      onStarted(retrain.id);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="retrain-h">
      <h2 id="retrain-h">Start a retrain</h2>
      <form class="card grid-form" onSubmit={(e) => void submit(e)} aria-describedby="retrain-note">
        <p id="retrain-note" class="muted wide">
          Leave a field empty for its default. While a training is queued or running, starting another returns that one.
        </p>
        {FIELDS.map((f) => (
          <div class="field" key={f.name}>
            <label for={`f-${f.name}`}>{f.label}</label>
            {f.kind === 'choice' ? (
              <select
                id={`f-${f.name}`}
                name={f.name}
                value={values[f.name] ?? ''}
                onChange={(e) => set(f.name, (e.target as HTMLSelectElement).value)}
              >
                <option value="">default</option>
                {f.choices!.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            ) : f.kind === 'ints' ? (
              <input
                id={`f-${f.name}`}
                name={f.name}
                type="text"
                inputMode="numeric"
                pattern={'\\s*\\d+(\\s*,\\s*\\d+){0,3}\\s*'}
                value={values[f.name] ?? ''}
                aria-describedby={`h-${f.name}`}
                onInput={(e) => set(f.name, (e.target as HTMLInputElement).value)}
              />
            ) : (
              <input
                id={`f-${f.name}`}
                name={f.name}
                type="number"
                min={f.min}
                max={f.max}
                step={f.step ?? '1'}
                value={values[f.name] ?? ''}
                aria-describedby={f.hint ? `h-${f.name}` : undefined}
                onInput={(e) => set(f.name, (e.target as HTMLInputElement).value)}
              />
            )}
            {f.hint && (
              <small id={`h-${f.name}`} class="muted">
                {f.hint}
              </small>
            )}
          </div>
        ))}
        <div class="field wide check">
          <input
            id="f-force"
            type="checkbox"
            checked={force}
            onChange={(e) => setForce((e.target as HTMLInputElement).checked)}
          />
          <label for="f-force">Activate even if it measures worse than the live model (force)</label>
        </div>
        <div class="wide">
          <button type="submit" class="primary" disabled={busy}>
            {running ? 'Join the running training' : 'Start training'}
          </button>
        </div>
        <div class="wide">
          <ErrorNote error={error} />
        </div>
      </form>
    </section>
  );
}
