/**
 * A small bar chart in SVG (no chart library: one series of at most 31 bars). The numbers are also
 * in a table for screen readers and for reading exact values.
 */
export interface Bar {
  label: string;
  value: number;
}

export function BarChart({ bars, title, unit }: { bars: Bar[]; title: string; unit: string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const w = 600;
  const h = 120;
  const step = w / Math.max(1, bars.length);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${w} ${h + 16}`} role="img" aria-label={`${title}: bar chart, details in the table below`}>
        {bars.map((b, i) => {
          const bh = Math.round((b.value / max) * h);
          return (
            <rect key={b.label} x={i * step + 1} y={h - bh} width={Math.max(1, step - 2)} height={bh} class="bar">
              <title>{`${b.label}: ${b.value} ${unit}`}</title>
            </rect>
          );
        })}
        <line x1="0" y1={h} x2={w} y2={h} class="axis" />
        {bars.length > 0 && (
          <>
            <text x="0" y={h + 14} class="tick">
              {bars[0]?.label}
            </text>
            <text x={w} y={h + 14} class="tick" text-anchor="end">
              {bars[bars.length - 1]?.label}
            </text>
          </>
        )}
      </svg>
      <details>
        <summary>{title}: the numbers</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">{unit}</th>
            </tr>
          </thead>
          <tbody>
            {bars.map((b) => (
              <tr key={b.label}>
                <td>{b.label}</td>
                <td class="num">{b.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
