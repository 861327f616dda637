/**
 * Tutor payouts: who the next run would pay (and a way to start that run now), and every payout
 * with its transfer or its failure.
 */

import { useState } from "preact/hooks";
import { api } from "../api";
import { href, navigate, type Route } from "../router";
import { type Payout, type PayoutRun, type PayoutsDue, payoutStatuses } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { Section, Select } from "../ui/field";
import { PagedView, type PageOf, usePaged } from "../ui/paged";
import { useApi } from "../ui/use-api";
import { Badge, Id, Money, Time } from "../ui/values";

/**
 * The payout run's facts: its minimum (PAYOUT_MINIMUM_CENTS) and the currency tutors are paid in
 * (PAYOUT_CURRENCY). The API states the currency only on tutors due and on payouts, so it is read
 * from one of those; null while neither exists.
 */
export function usePayoutFacts() {
  const due = useApi<PayoutsDue>("/v1/admin/payouts/due?limit=1");
  const paid = useApi<PageOf<Payout>>("/v1/admin/payouts?limit=1");
  return {
    currency: due.data?.items[0]?.currency ?? paid.data?.items[0]?.currency ?? null,
    minimumCents: due.data?.minimumCents ?? null,
    reload: () => {
      due.reload();
      paid.reload();
    },
  };
}

/** Cents in the payout currency, or plain cents when the currency cannot be known yet. */
export const Cents = ({ cents, currency }: { cents: number; currency: string | null }) =>
  currency ? <Money cents={cents} currency={currency} /> : <span class="num">{cents} cents</span>;

function Due({ onRun }: { onRun: () => void }) {
  const list = usePaged<PayoutsDue["items"][number]>("/v1/admin/payouts/due");
  // the minimum comes with every page, but usePaged keeps only the items: read it from one small page
  const facts = usePayoutFacts();
  const minimum =
    facts.minimumCents === null ? (
      "the minimum"
    ) : (
      <>
        at least <Cents cents={facts.minimumCents} currency={facts.currency} />
      </>
    );
  const reload = () => {
    list.reload();
    facts.reload();
    onRun();
  };
  return (
    <Section
      title="Due at the next run"
      actions={
        <ConfirmAction
          label="Run payouts"
          title="Run payouts now?"
          onDone={reload}
          run={async (_f, idempotencyKey) => {
            const r = await api<PayoutRun>("POST", "/v1/admin/payouts/run", undefined, { idempotencyKey });
            const n = r.payouts === 1 ? "1 payout" : `${r.payouts} payouts`;
            return `Payout run started: ${n} started${r.continuing ? " (more follow in the background)" : ""}. The transfers run on the payment queue; watch the pending payouts below.`;
          }}
        >
          <p>
            Every tutor listed here is paid their whole available balance now, instead of at the daily run. Transfers go
            to Stripe on the payment queue; a tutor is never paid twice, even if two runs start at once.
          </p>
        </ConfirmAction>
      }
    >
      <p class="muted">Tutors with payouts enabled, no payout pending and an available balance of {minimum}.</p>
      <PagedView
        list={list}
        what="tutors due"
        empty={<p>Nobody is due: no tutor with payouts enabled has {minimum} available. Nothing to run.</p>}
      >
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Tutor</th>
                <th scope="col">Tutor profile</th>
                <th scope="col" class="num">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.userId}>
                  <td>
                    <a href={href("users", d.userId)}>{d.displayName ?? d.userId}</a>
                  </td>
                  <td>{d.tutorProfileId ? <Id id={d.tutorProfileId} /> : <span class="muted">none</span>}</td>
                  <td class="num">
                    <Money cents={d.balanceCents} currency={d.currency} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PagedView>
    </Section>
  );
}

function AllPayouts({ status }: { status: string }) {
  const list = usePaged<Payout>("/v1/admin/payouts", { status });
  return (
    <Section title="Payouts">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Select
          label="Status"
          name="status"
          value={status}
          options={["", ...payoutStatuses]}
          onChange={(e) => navigate(href("payouts", { status: e.currentTarget.value }))}
        />
        <p class="muted">Newest first.</p>
      </form>
      <PagedView
        list={list}
        what="payouts"
        empty={
          <p>
            {status
              ? `No ${status} payouts. Pick another status above.`
              : "No payout yet. The daily run (or Run payouts above) creates them."}
          </p>
        }
      >
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Tutor</th>
                <th scope="col" class="num">
                  Amount
                </th>
                <th scope="col">Status</th>
                <th scope="col">Transfer</th>
                <th scope="col">Failure reason</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Time ms={p.createdAt} />
                  </td>
                  <td>{p.userId ? <a href={href("users", p.userId)}>{p.userId}</a> : "—"}</td>
                  <td class="num">
                    <Money cents={p.amountCents} currency={p.currency} />
                  </td>
                  <td>
                    <Badge value={p.status} />
                  </td>
                  <td>{p.stripeTransferId ? <Id id={p.stripeTransferId} /> : <span class="muted">—</span>}</td>
                  <td>{p.failureReason ?? <span class="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PagedView>
    </Section>
  );
}

export function Payouts({ route }: { route: Route }) {
  const q = route.query.get("status") ?? "";
  const status = (payoutStatuses as readonly string[]).includes(q) ? q : "";
  const [tick, setTick] = useState(0);
  return (
    <>
      <h1>Payouts</h1>
      <Due onRun={() => setTick((t) => t + 1)} />
      {/* a run adds pending payouts: the list starts again from its first page */}
      <AllPayouts key={tick} status={status} />
    </>
  );
}
