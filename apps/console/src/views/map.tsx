import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { gql } from '../api';
import { ErrorNote } from '../components/notes';
import { ScatterPlot } from '../components/scatter';
import { brief, count, metric, text } from '../format';
import { can, Identity } from '../session';

type Kind = 'ITEM' | 'USER';

interface MapPage {
  version: number;
  total: number;
  explainedVariance: number[];
  points: Array<{ id: string; coordinates: number[]; attributes?: Record<string, unknown> | null }>;
  nextCursor: string | null;
}

interface Loaded {
  kind: Kind;
  version: number;
  total: number;
  explainedVariance: number[];
  ids: string[];
  xs: Float32Array;
  ys: Float32Array;
  attributes: Array<Record<string, unknown> | null>;
}

interface Similar {
  source: string;
  modelVersion: number | null;
  preview: boolean;
  items: Array<{ score: number; item: { id: string; attributes: Record<string, unknown> } }>;
}

const PAGE_SIZE = 5000;
const page = (withAttributes: boolean) => `query P($kind: EmbeddingKind!, $after: String, $limit: Int!) {
  embeddingMapPage(kind: $kind, after: $after, limit: $limit) {
    version total explainedVariance nextCursor points { id coordinates ${withAttributes ? 'attributes' : ''} } } }`;
const SIMILAR = `query S($id: ID!) { similarItems(itemId: $id, limit: 10, preview: true) {
  source modelVersion preview items { score item { id attributes } } } }`;

// Okabe-Ito, readable for the common colour blindnesses; the last colour is "other"
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000', '#999999'];
const OTHER = PALETTE.length - 1;

/** Colours by one attribute's value: the most common values get a colour each, the rest "other". */
function colouring(loaded: Loaded, attribute: string) {
  const colors = new Uint8Array(loaded.ids.length).fill(OTHER);
  if (!attribute) return { colors, legend: [] as Array<{ label: string; color: string; n: number }> };
  const counts = new Map<string, number>();
  const values = loaded.attributes.map((a) => {
    const v = a?.[attribute];
    const label = v === undefined || v === null ? '(none)' : text(v);
    counts.set(label, (counts.get(label) ?? 0) + 1);
    return label;
  });
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, OTHER);
  const index = new Map(top.map(([label], i) => [label, i]));
  values.forEach((label, i) => (colors[i] = index.get(label) ?? OTHER));
  const legend = top.map(([label, n], i) => ({ label, color: PALETTE[i], n }));
  const rest = loaded.ids.length - top.reduce((s, [, n]) => s + n, 0);
  if (rest > 0) legend.push({ label: 'other', color: PALETTE[OTHER], n: rest });
  return { colors, legend };
}

export function MapView({ identity }: { identity: Identity }) {
  const [kind, setKind] = useState<Kind>('ITEM');
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [attribute, setAttribute] = useState('');
  const [hover, setHover] = useState<{ index: number; x: number; y: number } | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [similar, setSimilar] = useState<Similar | null>(null);
  const [similarError, setSimilarError] = useState<Error | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const plot = useRef<ScatterPlot | null>(null);
  const serve = can(identity, 'serve');

  // every page of the version's map, drawn as the pages arrive
  useEffect(() => {
    let stopped = false;
    setLoaded(null);
    setSelected(null);
    setSimilar(null);
    setError(null);
    (async () => {
      const ids: string[] = [];
      const xs: number[] = [];
      const ys: number[] = [];
      const attributes: Array<Record<string, unknown> | null> = [];
      let after: string | null = null;
      do {
        const { embeddingMapPage: p }: { embeddingMapPage: MapPage } = await gql(page(serve && kind === 'ITEM'), {
          kind,
          after,
          limit: PAGE_SIZE,
        });
        if (stopped) return;
        for (const point of p.points) {
          ids.push(point.id);
          xs.push(point.coordinates[0] ?? 0);
          ys.push(point.coordinates[1] ?? 0);
          attributes.push(point.attributes ?? null);
        }
        after = p.nextCursor;
        setProgress({ done: ids.length, total: p.total });
        setLoaded({
          kind,
          version: p.version,
          total: p.total,
          explainedVariance: p.explainedVariance,
          ids: [...ids],
          xs: Float32Array.from(xs),
          ys: Float32Array.from(ys),
          attributes: [...attributes],
        });
      } while (after);
    })().catch((err: Error) => !stopped && setError(err));
    return () => {
      stopped = true;
    };
  }, [kind, serve]);

  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    plot.current = new ScatterPlot(el, {
      onHover: (index, x, y) => setHover(index === null ? null : { index, x, y }),
      onSelect: (index) => setSelected(index),
    });
    return () => plot.current?.destroy();
  }, []);

  const attributeNames = useMemo(() => {
    const names = new Set<string>();
    for (const a of loaded?.attributes ?? []) if (a) for (const name of Object.keys(a)) names.add(name);
    return [...names].sort();
  }, [loaded]);

  const colours = useMemo(() => loaded && colouring(loaded, attribute), [loaded, attribute]);
  const firstPage = useRef(true);
  useEffect(() => {
    if (!loaded || !colours || !plot.current) return;
    plot.current.setData({ xs: loaded.xs, ys: loaded.ys, colors: colours.colors, palette: PALETTE }, firstPage.current);
    firstPage.current = false;
  }, [loaded, colours]);
  useEffect(() => {
    firstPage.current = true;
  }, [kind]);

  // an item clicked: its nearest items, asked as a preview (an operator looking, not a user shown them)
  const selectedId = selected !== null ? loaded?.ids[selected] : undefined;
  useEffect(() => {
    setSimilar(null);
    setSimilarError(null);
    if (!selectedId || !loaded) return;
    if (loaded.kind !== 'ITEM' || !serve) {
      plot.current?.setHighlight(selected, []);
      return;
    }
    let stopped = false;
    gql<{ similarItems: Similar }>(SIMILAR, { id: selectedId }).then(
      ({ similarItems }) => {
        if (stopped) return;
        setSimilar(similarItems);
        const index = new Map(loaded.ids.map((id, i) => [id, i]));
        plot.current?.setHighlight(
          selected,
          similarItems.items.map((s) => index.get(s.item.id)).filter((i): i is number => i !== undefined),
        );
      },
      (err: Error) => !stopped && setSimilarError(err),
    );
    return () => {
      stopped = true;
    };
    // loaded changes as pages arrive; the selection is by id
  }, [selectedId]);

  const [wanted, setWanted] = useState('');
  const [notFound, setNotFound] = useState<string | null>(null);
  const find = (event: Event) => {
    event.preventDefault();
    const index = loaded?.ids.indexOf(wanted.trim()) ?? -1;
    setNotFound(index < 0 ? wanted.trim() : null);
    if (index < 0) return;
    plot.current?.centerOn(index);
    setSelected(index);
  };

  const hovered = hover && loaded ? hover.index : null;
  return (
    <>
      <div class="toolbar" role="group" aria-label="Map options">
        <fieldset>
          <legend>Show</legend>
          {(['ITEM', 'USER'] as const).map((k) => (
            <label key={k}>
              <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
              {k === 'ITEM' ? 'items' : 'users'}
            </label>
          ))}
        </fieldset>
        {kind === 'ITEM' && serve && (
          <label>
            Colour by{' '}
            <select value={attribute} onChange={(e) => setAttribute((e.target as HTMLSelectElement).value)}>
              <option value="">nothing</option>
              {attributeNames.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        )}
        <form class="find" onSubmit={find} role="search">
          <label for="map-find">{kind === 'ITEM' ? 'Item' : 'User'} id</label>
          <input id="map-find" value={wanted} onInput={(e) => setWanted((e.target as HTMLInputElement).value)} />
          <button type="submit">Find</button>
        </form>
        <span class="buttons">
          <button type="button" onClick={() => plot.current?.zoomBy(1.5)}>
            Zoom in
          </button>
          <button type="button" onClick={() => plot.current?.zoomBy(1 / 1.5)}>
            Zoom out
          </button>
          <button type="button" onClick={() => plot.current?.reset()}>
            Fit
          </button>
        </span>
      </div>
      <ErrorNote error={error} />
      {notFound && (
        <p class="notice" role="alert">
          No {kind === 'ITEM' ? 'item' : 'user'} {notFound} on this map.
        </p>
      )}
      <p class="muted" role="status" data-testid="map-status">
        {loaded
          ? `Version ${loaded.version}: ${count(loaded.ids.length)} of ${count(loaded.total)} ${kind === 'ITEM' ? 'items' : 'users'} loaded` +
            ` (first two principal components: ${loaded.explainedVariance.map((v) => `${(v * 100).toFixed(1)}%`).join(' and ')} of the variance).`
          : progress
            ? `Loading… ${count(progress.done)} of ${count(progress.total)}`
            : error
              ? ''
              : 'Loading the map…'}
      </p>
      <div class="map-box">
        <canvas
          ref={canvas}
          class="map"
          data-testid="map-canvas"
          data-points={loaded?.ids.length ?? 0}
          data-total={loaded?.total ?? ''}
          tabIndex={0}
          role="img"
          aria-label={`Map of ${kind === 'ITEM' ? 'items' : 'users'}: drag or use the arrow keys to pan, wheel or + and - to zoom, 0 to fit; click a point for details`}
        />
        {hovered !== null && loaded && (
          <div
            class="tooltip"
            style={{ left: `${hover!.x + 12}px`, top: `${hover!.y + 12}px` }}
            data-testid="map-tooltip"
          >
            <strong>{loaded.ids[hovered]}</strong>
            {loaded.attributes[hovered] && <div class="mono">{brief(loaded.attributes[hovered])}</div>}
          </div>
        )}
      </div>
      {colours && colours.legend.length > 0 && (
        <ul class="legend" aria-label={`Colours: ${attribute}`}>
          {colours.legend.map((entry) => (
            <li key={entry.label}>
              <span class="swatch" style={{ background: entry.color }} />
              {entry.label} ({count(entry.n)})
            </li>
          ))}
        </ul>
      )}
      {selectedId && (
        <section aria-labelledby="selected-h" data-testid="map-selection">
          <h2 id="selected-h">
            {loaded?.kind === 'USER' ? 'User' : 'Item'} {selectedId}
          </h2>
          {loaded?.kind === 'USER' ? (
            <p>
              <a href={`#/users/${encodeURIComponent(selectedId)}`}>Look up user {selectedId}</a>
            </p>
          ) : !serve ? (
            <p class="notice">Similar items need a key with the serve scope.</p>
          ) : (
            <>
              <ErrorNote error={similarError} />
              {similar && (
                <>
                  <p class="muted">
                    Nearest items by cosine (source {similar.source}, version {similar.modelVersion ?? '–'}, asked as a
                    preview).
                  </p>
                  <ol class="similar" data-testid="similar-items">
                    {similar.items.map((s) => (
                      <li key={s.item.id}>
                        <strong>{s.item.id}</strong> {metric(s.score, 3)}{' '}
                        <span class="mono">{brief(s.item.attributes)}</span>
                      </li>
                    ))}
                  </ol>
                </>
              )}
            </>
          )}
        </section>
      )}
    </>
  );
}
