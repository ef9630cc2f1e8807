// One time-series chart of the System page, drawn by uPlot (loaded on first use: the first
// screen of the dashboard does not need it). Data are columns as uPlot takes them: times in
// seconds, then one array per series (null for a gap).
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { html } from './html.js';

export type Columns = [number[], ...Array<Array<number | null>>];

export interface ChartProps {
  id: string;
  title: string;
  series: string[];
  data: Columns;
  /** Axis and legend values. */
  format: (v: number) => string;
  /** Fixed y range (percentages), else from the data. */
  range?: [number, number];
}

type UPlotCtor = typeof uPlot;
let loading: Promise<UPlotCtor> | null = null;
const loadUPlot = () => (loading ??= import('uplot').then((m) => (m as unknown as { default: UPlotCtor }).default));

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

export function Chart({ id, title, series, data, format, range }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [error, setError] = useState<string | null>(null);
  const shape = series.join('\u0000');

  // (Re)made when the series change; data updates go through setData below.
  useEffect(() => {
    let gone = false;
    loadUPlot().then((UPlot) => {
      if (gone || !box.current) return;
      const width = Math.max(240, box.current.clientWidth);
      const opts: uPlot.Options = {
        width,
        height: 180,
        series: [{}, ...series.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5, value: (_u: uPlot, v: number | null) => (v === null ? '\u2014' : format(v)) }))],
        axes: [{}, { values: (_u: uPlot, ticks: number[]) => ticks.map(format), size: 70 }],
        scales: range ? { y: { range } } : {},
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      };
      plot.current = new UPlot(opts, data as uPlot.AlignedData, box.current);
    }, (err: unknown) => setError(`The chart could not be drawn: ${(err as Error).message}`));
    const observer = new ResizeObserver(() => {
      if (plot.current && box.current) plot.current.setSize({ width: Math.max(240, box.current.clientWidth), height: 180 });
    });
    if (box.current) observer.observe(box.current);
    return () => {
      gone = true;
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return html`
    <section class="card chart" aria-label=${title} data-testid=${`chart-${id}`} data-points=${data[0].length}>
      <h3>${title}</h3>
      ${error ? html`<p class="error">${error}</p>` : null}
      <div ref=${box} class="chart-box"></div>
    </section>`;
}
