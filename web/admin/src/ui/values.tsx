/** Small display pieces: a time, an amount of money, credits, a status badge. */
import { formatCredits, formatDateTime, formatMoney, utcText } from "../format";

export function Time({ ms }: { ms: number | null | undefined }) {
  if (ms === null || ms === undefined) return <span class="muted">—</span>;
  return (
    <time dateTime={new Date(ms).toISOString()} title={utcText(ms)}>
      {formatDateTime(ms)}
    </time>
  );
}

export const Money = ({ cents, currency }: { cents: number; currency: string }) => (
  <span class="num">{formatMoney(cents, currency)}</span>
);

export const Credits = ({ n }: { n: number }) => <span class={n < 0 ? "num negative" : "num"}>{formatCredits(n)}</span>;

/** A status word with a colour class of its own (`badge-disputed`, …); the word itself carries the meaning. */
export const Badge = ({ value }: { value: string | null | undefined }) =>
  value ? <span class={`badge badge-${value.replace(/[^a-z_]/g, "")}`}>{value.replace(/_/g, " ")}</span> : null;

/** An id shown short, whole in its title, copyable by selection. */
export const Id = ({ id }: { id: string }) => (
  <code class="id" title={id}>
    {id}
  </code>
);
