import { useEffect, useState } from "hono/jsx";
import { Chart } from "../components/sparkline";

/** A chart as wide as its box (uPlot draws at a fixed size: measured, and again on resize). */
export function WideChart(props: { points: Array<[number, number]>; label: string }) {
  const [width, setWidth] = useState(Math.min(720, Math.max(240, window.innerWidth - 64)));
  useEffect(() => {
    const resize = () => setWidth(Math.min(720, Math.max(240, window.innerWidth - 64)));
    window.addEventListener("resize", resize);
    return () => window.removeEventListener("resize", resize);
  }, []);
  return <Chart points={props.points} label={props.label} width={width} height={160} axes />;
}
