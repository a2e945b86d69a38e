import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  /** A second y axis on the right (e.g. NDCG beside a loss). */
  right?: boolean;
  dash?: boolean;
  bars?: boolean;
  /** Left out of the caption (the other edge of a band the caption names once). */
  unlisted?: boolean;
}

interface ChartProps {
  /** Names the figure for screen readers; the data is also in a table or list next to it. */
  label: string;
  x: number[];
  ys: Array<Array<number | null>>;
  series: ChartSeries[];
  xLabel: string;
  /** x values are unix seconds. */
  time?: boolean;
  /** x values are whole numbers (epochs, versions): ticks only on them. */
  integerX?: boolean;
  height?: number;
}

const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** uPlot (about 20 KB gzipped, canvas) for every line and bar chart; its width follows the container. */
export function Chart({ label, x, ys, series, xLabel, time = false, integerX = false, height = 220 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const right = series.some((s) => s.right);
    const bars = uPlot.paths.bars?.({ size: [0.8, 40] });
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time }, y: {}, ...(right ? { r: {} } : {}) },
      axes: [
        { label: xLabel, stroke: '#444', ...(integerX ? { incrs: INTEGER_STEPS } : {}) },
        { stroke: '#444' },
        ...(right ? [{ scale: 'r', side: 1 as const, stroke: '#444', grid: { show: false } }] : []),
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          scale: s.right ? 'r' : 'y',
          dash: s.dash ? [6, 4] : undefined,
          fill: s.bars ? `${s.color}99` : undefined,
          paths: s.bars ? bars : undefined,
          points: { show: !s.bars && x.length < 40 },
          spanGaps: true,
        })),
      ],
    };
    plot.current = new uPlot(options, [x, ...ys] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [x, ys, series, xLabel, time, integerX, height]);

  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label={label} />
      <figcaption>
        {series
          .filter((s) => !s.unlisted)
          .map((s) => (
            <span class="key" key={s.label}>
              <span class="swatch" style={{ background: s.color, opacity: s.dash ? 0.6 : 1 }} />
              {s.label}
              {s.right ? ' (right axis)' : ''}
            </span>
          ))}
      </figcaption>
    </figure>
  );
}
