import type { ComponentChildren } from 'preact';
import { metric } from '../format';
import { TableWrap } from './notes';

/** The stored metric names a version reports, as the console labels them. */
export const METRIC_NAMES = { ndcg100: 'NDCG@100', recall20: 'Recall@20', recall50: 'Recall@50' } as const;

type Figures = Record<keyof typeof METRIC_NAMES, number | null | undefined>;

/** A version's held-out metrics beside most-popular's, one row per metric. */
export function MetricsTable(props: {
  label: string;
  caption: ComponentChildren;
  metrics: Figures & { popularity?: Partial<Figures> | null };
}) {
  const { metrics } = props;
  return (
    <TableWrap label={props.label}>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">metric</th>
            <th scope="col">model</th>
            <th scope="col">popularity</th>
          </tr>
        </thead>
        <tbody>
          {(Object.keys(METRIC_NAMES) as (keyof typeof METRIC_NAMES)[]).map((m) => (
            <tr key={m}>
              <th scope="row">{METRIC_NAMES[m]}</th>
              <td>{metric(metrics[m])}</td>
              <td>{metric(metrics.popularity?.[m])}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
