/**
 * The sections of a user's page (#/users/:id, laid out in users.tsx): the credits ledger, a manual
 * adjustment, and the purchase orders with their refunds to the card.
 */
import { useState } from "preact/hooks";
import { api } from "../api";
import { formatCredits, formatMoney } from "../format";
import { href } from "../router";
import { type LedgerEntry, ledgerTypes, type Order, type UserDetail } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { Field, Select, TextArea } from "../ui/field";
import { type Paged, PagedView } from "../ui/paged";
import { Badge, Credits, Id, Money, Time } from "../ui/values";

const signed = (e: LedgerEntry) => `${e.type === "credit" ? "+" : "−"}${formatCredits(e.amount)}`;

export function Ledger({ list }: { list: Paged<LedgerEntry> }) {
  return (
    <PagedView
      list={list}
      what="ledger entries"
      empty={<p>No credits have moved for this user yet: lines appear with a purchase, a booking or an adjustment.</p>}
    >
      {(items) => (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Type</th>
              <th scope="col">Source</th>
              <th scope="col">Amount</th>
              <th scope="col">Balance after</th>
              <th scope="col">Description</th>
              <th scope="col">For</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id}>
                <td>
                  <Time ms={e.createdAt} />
                </td>
                <td>
                  <Badge value={e.type} />
                </td>
                <td>
                  <code class="word">{e.source}</code>
                </td>
                <td class={e.type === "debit" ? "num negative" : "num"}>{signed(e)}</td>
                <td>
                  <Credits n={e.balanceAfter} />
                </td>
                <td>{e.description ?? <span class="muted">—</span>}</td>
                <td>
                  {e.sessionId && <a href={href("sessions", e.sessionId)}>Session</a>}
                  {e.purchaseOrderId && (
                    <>
                      Order <Id id={e.purchaseOrderId} />
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </PagedView>
  );
}

export function Adjust({ u, onDone }: { u: UserDetail; onDone: () => void }) {
  return (
    <>
      <p>
        A manual credit or debit of this user's credits balance (now <Credits n={u.balance} />
        ), written to the ledger as <code>manual_adjustment</code> and to the audit log. A debit may not take the
        balance below zero.
      </p>
      <ConfirmAction
        label="Adjust credits"
        title={`Adjust the credits of ${u.email}?`}
        onDone={onDone}
        fields={
          <>
            <Select label="Type" name="type" options={ledgerTypes} required />
            <Field label="Amount" name="amount" type="number" min={1} max={1_000_000} step={1} required />
            <TextArea label="Description" name="description" minLength={1} maxLength={500} required />
          </>
        }
        run={async (f, idempotencyKey) => {
          const type = String(f.get("type"));
          const amount = Number(f.get("amount"));
          const description = String(f.get("description") ?? "").trim();
          const body = { userId: u.id, type, amount, description };
          const entry = await api<LedgerEntry>("POST", "/v1/admin/credits/adjustments", body, {
            idempotencyKey,
          });
          return `${type === "credit" ? "Credited" : "Debited"} ${formatCredits(entry.amount)} ${
            type === "credit" ? "to" : "from"
          } ${u.email}; the balance is now ${formatCredits(entry.balanceAfter)}.`;
        }}
      >
        <p>
          The change is immediate and is not undone by itself: a mistake needs an adjustment the other way. The user
          sees the line and its description in their ledger.
        </p>
      </ConfirmAction>
    </>
  );
}

/** Credits of the order not yet taken back (by a refund or a dispute): what can still be refunded. */
const refundable = (o: Order) => (o.status === "completed" ? o.totalCredits - o.reversedCredits : 0);

/** The cents the card gets back for `credits`, computed as the server does (admin-refund.ts). */
function refundCents(o: Order, credits: number): number {
  if (!Number.isInteger(credits) || credits < 1 || credits > refundable(o)) return 0;
  // the last credits take whatever cents are left, so a refund in parts returns the whole payment
  return credits === refundable(o)
    ? o.totalCents - o.refundedCents
    : Math.floor((credits * o.totalCents) / o.totalCredits);
}

function Refund({ o, onDone }: { o: Order; onDone: () => void }) {
  const rest = refundable(o);
  const [credits, setCredits] = useState(rest);
  const cents = refundCents(o, credits);
  return (
    <ConfirmAction
      label="Refund"
      title={`Refund order ${o.id} to the card?`}
      danger
      onDone={onDone}
      fields={
        <Field
          label="Credits to refund"
          name="credits"
          type="number"
          min={1}
          max={rest}
          step={1}
          required
          defaultValue={String(rest)}
          onInput={(e) => setCredits(Number(e.currentTarget.value))}
          hint={`Between 1 and ${formatCredits(rest)} (not yet taken back of the ${formatCredits(o.totalCredits)} bought).`}
        />
      }
      run={async (f, idempotencyKey) => {
        const n = Number(f.get("credits"));
        const body = { credits: n };
        const after = await api<Order>("POST", `/v1/admin/credits/orders/${encodeURIComponent(o.id)}/refund`, body, {
          idempotencyKey,
        }).catch((err: unknown) => {
          // a refused refund still wrote its reversal and the reinstatement that undid it: show them
          onDone();
          throw err;
        });
        return `Refunded ${formatCredits(n)} of order ${o.id}: the card gets ${formatMoney(
          after.refundedCents - o.refundedCents,
          o.currency,
        )} back.`;
      }}
    >
      <p>
        The credits are debited from the student's balance now (it goes below zero if they were already spent), so they
        cannot be spent meanwhile. Then the card is refunded credits × {formatMoney(o.totalCents, o.currency)} ÷{" "}
        {o.totalCredits}
        {credits === rest ? " (the last credits take whatever is left of the payment)" : ""}:{" "}
        <strong>{cents > 0 ? formatMoney(cents, o.currency) : "—"}</strong>
        {cents > 0 ? ` for ${formatCredits(credits)}` : ": enter a whole number of credits in the range"}.
      </p>
      <p>If the card processor refuses the refund, the debit is undone and nothing is refunded.</p>
    </ConfirmAction>
  );
}

export function Orders({ list, onDone }: { list: Paged<Order>; onDone: () => void }) {
  return (
    <PagedView
      list={list}
      what="orders"
      empty={<p>This user has bought no credits. Orders appear here when a checkout is started.</p>}
    >
      {(items) => (
        <table>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Status</th>
              <th scope="col">Credits</th>
              <th scope="col">Price</th>
              <th scope="col">Refunded</th>
              <th scope="col">Reversed credits</th>
              <th scope="col">Dispute</th>
              <th scope="col">Created</th>
              <th scope="col">Completed</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((o) => (
              <tr key={o.id}>
                <td>
                  <code>{o.packId}</code> <Id id={o.id} />
                </td>
                <td>
                  <Badge value={o.status} />
                </td>
                <td>
                  <Credits n={o.totalCredits} />
                </td>
                <td>
                  <Money cents={o.totalCents} currency={o.currency} />
                </td>
                <td>
                  <Money cents={o.refundedCents} currency={o.currency} />
                </td>
                <td class="num">{o.reversedCredits}</td>
                <td>{o.disputeStatus ? <Badge value={o.disputeStatus} /> : "—"}</td>
                <td>
                  <Time ms={o.createdAt} />
                </td>
                <td>
                  <Time ms={o.completedAt} />
                </td>
                <td class="actions">
                  {refundable(o) > 0 ? (
                    <Refund key={`${o.id}:${refundable(o)}`} o={o} onDone={onDone} />
                  ) : (
                    <span class="muted">nothing to refund</span>
                  )}
                  <a href={href("audit-log", { targetId: o.id })}>Audit trail</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </PagedView>
  );
}
