/**
 * What needs the operator today: today's lessons, and the queues that wait for an admin (tutors to
 * approve, disputes, failed recordings, dead letters, payouts due), with the credits sold over the
 * last 30 days and whether the money identities hold.
 */
import { withQuery } from "../api";
import { adminTimeZone, formatCount, formatCredits, formatMoney, todayRange } from "../format";
import { href } from "../router";
import type { CreditsSold, PayoutDue, Session } from "../types";
import { BarChart } from "../ui/chart";
import { Section } from "../ui/field";
import type { PageOf } from "../ui/paged";
import { Empty, ErrorState, Loading } from "../ui/states";
import { useApi } from "../ui/use-api";
import { Badge, Time } from "../ui/values";

const PEEK = 100;

/** A queue's size, from one page of its list ("100+" when there is more). */
function QueueTile({ title, path, to, none }: { title: string; path: string; to: string; none: string }) {
  const q = useApi<PageOf<unknown>>(withQuery(path, { limit: PEEK }));
  const n = q.data ? `${formatCount(q.data.items.length)}${q.data.nextCursor ? "+" : ""}` : "…";
  return (
    <li class="tile">
      <a class="tile-link" href={to}>
        <span class="tile-n">{q.error ? "?" : n}</span>
        <span class="tile-title">{title}</span>
      </a>
      {q.error ? <small class="negative">could not load</small> : q.data?.items.length === 0 && <small>{none}</small>}
    </li>
  );
}

function PayoutsDueTile() {
  const q = useApi<PageOf<PayoutDue> & { minimumCents: number }>(withQuery("/v1/admin/payouts/due", { limit: PEEK }));
  const items = q.data?.items ?? [];
  const currency = items[0]?.currency ?? "usd";
  const cents = items.reduce((s, p) => s + p.balanceCents, 0);
  return (
    <li class="tile">
      <a class="tile-link" href={href("payouts")}>
        <span class="tile-n">{q.error ? "?" : q.data ? `${items.length}${q.data.nextCursor ? "+" : ""}` : "…"}</span>
        <span class="tile-title">Payouts due</span>
      </a>
      {q.data && <small>{items.length ? formatMoney(cents, currency) : "nobody to pay"}</small>}
    </li>
  );
}

function Today() {
  const { from, to } = todayRange();
  const list = useApi<PageOf<Session>>(withQuery("/v1/admin/sessions", { from, to, limit: 50 }));
  if (list.error) return <ErrorState error={list.error} retry={list.reload} />;
  if (!list.data) return <Loading what="today's sessions" />;
  if (list.data.items.length === 0) return <Empty>No lessons today ({adminTimeZone}).</Empty>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Starts</th>
          <th scope="col">Status</th>
          <th scope="col">Credits</th>
          <th scope="col">Session</th>
        </tr>
      </thead>
      <tbody>
        {list.data.items.map((s) => (
          <tr key={s.id}>
            <td>
              <Time ms={s.startTime} />
            </td>
            <td>
              <Badge value={s.status} /> <Badge value={s.settlementStatus} />
            </td>
            <td class="num">{s.creditsCost}</td>
            <td>
              <a href={href("sessions", s.id)}>Open</a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Sales() {
  const q = useApi<CreditsSold>(withQuery("/v1/admin/stats/credits-sold", { timezone: adminTimeZone }));
  if (q.error) return <ErrorState error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading what="sales" />;
  const t = q.data.totals;
  return (
    <>
      <p>
        {formatCredits(t.credits)} in {formatCount(t.orders)} orders
        {t.amounts.length > 0 && ` (${t.amounts.map((a) => formatMoney(a.cents, a.currency)).join(", ")})`}, gross of
        refunds, by day in {q.data.timezone}.
      </p>
      <BarChart
        title="Credits sold per day"
        unit="credits"
        bars={q.data.days.map((d) => ({ label: d.date, value: d.credits }))}
      />
    </>
  );
}

function Balance() {
  const q = useApi<{ balanced: boolean }>("/v1/admin/reconciliation");
  if (q.error) return <ErrorState error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading what="the reconciliation" />;
  return q.data.balanced ? (
    <p>Every money identity holds over the last 30 days.</p>
  ) : (
    <p class="negative" role="alert">
      The money identities do not hold: open <code>GET /v1/admin/reconciliation</code> for the offending ids and tell an
      engineer.
    </p>
  );
}

export function Dashboard() {
  return (
    <>
      <h1>Dashboard</h1>
      <ul class="tiles" aria-label="Queues waiting for an admin">
        <QueueTile
          title="Tutors waiting for approval"
          path="/v1/admin/tutors?status=pending"
          to={href("tutors", { status: "pending" })}
          none="nobody waiting"
        />
        <QueueTile
          title="Disputed sessions"
          path="/v1/admin/sessions?settlementStatus=disputed"
          to={href("sessions", { settlementStatus: "disputed" })}
          none="no dispute open"
        />
        <QueueTile
          title="Failed recordings"
          path="/v1/admin/recordings?status=failed"
          to={href("recordings", { status: "failed" })}
          none="none failed"
        />
        <QueueTile title="Dead letters" path="/v1/admin/dead-letters" to={href("dead-letters")} none="none" />
        <PayoutsDueTile />
      </ul>
      <Section title="Today's sessions">
        <Today />
      </Section>
      <Section title="Credits sold, last 30 days">
        <Sales />
      </Section>
      <Section title="Reconciliation">
        <Balance />
      </Section>
    </>
  );
}
