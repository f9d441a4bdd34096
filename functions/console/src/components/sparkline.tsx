import { useEffect, useRef } from "hono/jsx";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/**
 * A time series (uPlot): `points` are [unix seconds, value]. `label` names it for screen
 * readers, which get the latest value as text; the canvas is decoration for them.
 */
export function Chart(props: {
  points: Array<[number, number]>;
  label: string;
  width: number;
  height: number;
  axes?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { points, width, height, axes = false } = props;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [points.map((p) => p[0]), points.map((p) => p[1])];
    if (!plot.current) {
      plot.current = new uPlot(
        {
          width,
          height,
          legend: { show: false },
          cursor: { show: axes },
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: axes ? [{}, { size: 50 }] : [{ show: false }, { show: false }],
          series: [{}, { stroke: "#2563eb", fill: "rgba(37, 99, 235, 0.15)", width: 1.5 }],
        },
        data,
        el,
      );
    } else {
      plot.current.setData(data);
    }
  }, [points, width, height, axes]);
  useEffect(
    () => () => {
      plot.current?.destroy();
      plot.current = null;
    },
    [],
  );
  const last = points.at(-1)?.[1];
  return (
    <figure class="chart" aria-label={props.label}>
      <div ref={box} aria-hidden="true" />
      <figcaption class="sr-only">
        {props.label}: {last === undefined ? "no data yet" : last.toFixed(1)}
      </figcaption>
    </figure>
  );
}
