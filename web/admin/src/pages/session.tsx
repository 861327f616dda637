/**
 * One lesson (#/sessions/:id): its facts, what it moved in the ledgers, its recording and report,
 * and the admin's actions on it (cancel, complete, resolve a dispute, publish the report). After an
 * action every part is loaded again, so the screen never shows a state from before it.
 */
import type { ComponentChild } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api";
import { formatCredits, formatDateTime } from "../format";
import { href } from "../router";
import type { AdminSession, Recording, Report, Session, SessionLedger, SessionParty } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { Field, Section, TextArea } from "../ui/field";
import { Empty, ErrorState, Loading } from "../ui/states";
import { type Loaded, useApi } from "../ui/use-api";
import { Badge, Credits, Id, Time } from "../ui/values";
import { Cents, usePayoutFacts } from "./payouts";
import { RecordingView, ReportView } from "./recordings";

export const minutesBetween = (s: Session) => Math.round((s.endTime - s.startTime) / 60_000);

const enc = encodeURIComponent;

function Party({ p }: { p: SessionParty | null }) {
  return p ? <a href={href("users", p.userId)}>{p.displayName}</a> : <span class="muted">—</span>;
}

function Facts({ s, currency }: { s: AdminSession; currency: string | null }) {
  return (
    <dl class="facts">
      <dt>Id</dt>
      <dd>
        <Id id={s.id} />
      </dd>
      <dt>Student</dt>
      <dd>
        <Party p={s.student} />
      </dd>
      <dt>Tutor</dt>
      <dd>
        <Party p={s.tutor} />
      </dd>
      <dt>Starts</dt>
      <dd>
        <Time ms={s.startTime} />
      </dd>
      <dt>Ends</dt>
      <dd>
        <Time ms={s.endTime} /> ({minutesBetween(s)} min)
      </dd>
      <dt>Status</dt>
      <dd>
        <Badge value={s.status} />
      </dd>
      <dt>Settlement</dt>
      <dd>
        <Badge value={s.settlementStatus} /> {s.settledAt ? <Time ms={s.settledAt} /> : null}
      </dd>
      <dt>Cost</dt>
      <dd>
        <Credits n={s.creditsCost} />
      </dd>
      <dt>Refunded</dt>
      <dd>
        <Credits n={s.refundedCredits} />
      </dd>
      {s.earnedCredits !== undefined && (
        <>
          <dt>Earned by the tutor</dt>
          <dd>
            <Credits n={s.earnedCredits} />
          </dd>
        </>
      )}
      <dt>Tutor earnings</dt>
      <dd>
        {s.tutorEarningsCents ? (
          <Cents cents={s.tutorEarningsCents} currency={currency} />
        ) : (
          <span class="muted">
            none{s.settlementStatus === "open" || s.settlementStatus === "disputed" ? " yet" : ""}
          </span>
        )}
      </dd>
      <dt>No-show</dt>
      <dd>{s.noShow ?? "—"}</dd>
      {s.cancelledAt && (
        <>
          <dt>Cancelled</dt>
          <dd>
            <Time ms={s.cancelledAt} /> by {s.cancelledBy ?? "—"}
            {s.cancellationReason ? `: ${s.cancellationReason}` : ""}
          </dd>
        </>
      )}
      {s.disputedAt && (
        <>
          <dt>Disputed</dt>
          <dd>
            <Time ms={s.disputedAt} />
            {s.disputeReason && <p class="pre-line">{s.disputeReason}</p>}
          </dd>
        </>
      )}
      {s.rescheduledAt && (
        <>
          <dt>Last moved</dt>
          <dd>
            <Time ms={s.rescheduledAt} />
          </dd>
        </>
      )}
      <dt>Series</dt>
      <dd>{s.seriesId ? <Id id={s.seriesId} /> : "single booking"}</dd>
      <dt>Student profile</dt>
      <dd>
        <Id id={s.studentProfileId} />
      </dd>
      <dt>Tutor profile</dt>
      <dd>
        <Id id={s.tutorProfileId} />
      </dd>
      <dt>Booked</dt>
      <dd>
        <Time ms={s.createdAt} />
      </dd>
    </dl>
  );
}

/** Why a lesson has no earning line, by where its credits are. */
const noEarning: Record<Session["settlementStatus"], string> = {
  open: "No earning yet: the tutor earns when the lesson settles with credits kept.",
  disputed: "No earning yet: the credits are held until an admin resolves the dispute.",
  refunded: "No earning: every credit went back to the student.",
  settled: "No earning line for this lesson.",
};

function Ledger({ q, s, currency }: { q: Loaded<SessionLedger>; s: Session; currency: string | null }) {
  if (q.error) return <ErrorState error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading what="ledger entries" />;
  const { credits, earnings } = q.data;
  return (
    <>
      <h3>Credits</h3>
      {credits.length === 0 ? (
        <Empty>
          <p>No credit moved for this lesson.</p>
        </Empty>
      ) : (
        <LedgerLines
          who="User"
          lines={credits.map((e) => ({
            ...e,
            amount: <Credits n={e.type === "debit" ? -e.amount : e.amount} />,
            balance: <Credits n={e.balanceAfter} />,
          }))}
        />
      )}
      <h3>Tutor earnings</h3>
      {earnings.length === 0 ? (
        <Empty>
          <p>{noEarning[s.settlementStatus]}</p>
        </Empty>
      ) : (
        <LedgerLines
          who="Tutor user"
          lines={earnings.map((e) => ({
            ...e,
            amount: <Cents cents={e.type === "debit" ? -e.amountCents : e.amountCents} currency={currency} />,
            balance: <Cents cents={e.balanceAfterCents} currency={currency} />,
          }))}
        />
      )}
    </>
  );
}

/** One row of either ledger, its amount and balance already formatted in the ledger's unit. */
interface LedgerLine {
  id: string;
  createdAt: number;
  userId?: string;
  source: string;
  amount: ComponentChild;
  balance: ComponentChild;
}

function LedgerLines({ who, lines }: { who: string; lines: LedgerLine[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">{who}</th>
          <th scope="col">Source</th>
          <th scope="col" class="num">
            Amount
          </th>
          <th scope="col" class="num">
            Balance after
          </th>
        </tr>
      </thead>
      <tbody>
        {lines.map((e) => (
          <tr key={e.id}>
            <td>
              <Time ms={e.createdAt} />
            </td>
            <td>{e.userId ? <a href={href("users", e.userId)}>{e.userId}</a> : "—"}</td>
            <td>{e.source.replace(/_/g, " ")}</td>
            <td class="num">{e.amount}</td>
            <td class="num">{e.balance}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ResolveAction({ s, onDone }: { s: Session; onDone: () => void }) {
  const [back, setBack] = useState(0);
  const refund = Math.min(Math.max(0, Math.trunc(back) || 0), s.creditsCost);
  return (
    <ConfirmAction
      label="Resolve dispute"
      title="Resolve this lesson's settlement?"
      onDone={onDone}
      fields={
        <>
          <Field
            label="Credits back to the student"
            name="refundCredits"
            type="number"
            min={0}
            max={s.creditsCost}
            step={1}
            required
            value={String(back)}
            onInput={(e) => setBack(Number(e.currentTarget.value))}
          />
          <p aria-live="polite">
            {formatCredits(refund)} back to the student; the rest, {formatCredits(s.creditsCost - refund)}, is earned by
            the tutor.
          </p>
          <TextArea label="Note" name="note" required maxLength={2000} />
        </>
      }
      run={async (f, idempotencyKey) => {
        const refundCredits = Number(f.get("refundCredits"));
        const note = String(f.get("note") ?? "").trim();
        const r = await api<Session>(
          "POST",
          `/v1/admin/sessions/${enc(s.id)}/resolve`,
          { refundCredits, note },
          { idempotencyKey },
        );
        setBack(0);
        return `Resolved: ${formatCredits(r.refundedCredits)} back to the student, ${formatCredits(
          s.creditsCost - r.refundedCredits,
        )} earned by the tutor. Both were notified.`;
      }}
    >
      <p>
        The lesson cost {formatCredits(s.creditsCost)}
        {s.disputeReason ? "; the student disputed it" : ""}. Whatever does not go back to the student is earned by the
        tutor. This settles the lesson for good.
      </p>
    </ConfirmAction>
  );
}

function Actions({ s, onDone }: { s: Session; onDone: () => void }) {
  const resolvable = s.settlementStatus === "disputed" || (s.status === "completed" && s.settlementStatus === "open");
  return (
    <div class="actions-row">
      {s.status === "scheduled" && (
        <ConfirmAction
          label="Cancel session"
          title="Cancel this session?"
          danger
          onDone={onDone}
          fields={<TextArea label="Reason" name="reason" maxLength={500} />}
          run={async (f) => {
            const reason = String(f.get("reason") ?? "").trim();
            await api("POST", `/v1/sessions/${enc(s.id)}/cancel`, reason ? { reason } : {});
            return `Session cancelled. ${formatCredits(s.creditsCost)} went back to the student; both participants were notified.`;
          }}
        >
          <p>
            Cancelled by an admin: the student gets a full refund ({formatCredits(s.creditsCost)}) and both participants
            are notified.
          </p>
        </ConfirmAction>
      )}
      {s.status === "in_progress" && (
        <ConfirmAction
          label="Complete"
          title="Mark this session completed?"
          onDone={onDone}
          run={async () => {
            await api("POST", `/v1/sessions/${enc(s.id)}/complete`);
            return "Session completed. The student was told; the dispute window runs from now.";
          }}
        >
          <p>The student is told, and the dispute window starts now; the credits settle after the hold.</p>
        </ConfirmAction>
      )}
      {resolvable && <ResolveAction s={s} onDone={onDone} />}
      <a href={href("audit-log", { targetId: s.id })}>Audit trail</a>
    </div>
  );
}

export function SessionDetail({ id }: { id: string }) {
  // the admin read says who is in the lesson and whether a recording and a report exist, so the
  // page asks for each only when there is one (a 404 would be a failed request in the console)
  const session = useApi<AdminSession>(`/v1/admin/sessions/${enc(id)}`);
  const { currency } = usePayoutFacts();
  const s = session.data;
  const possible = !!s && (s.status === "in_progress" || s.status === "completed");
  const ledger = useApi<SessionLedger>(s ? `/v1/admin/sessions/${enc(id)}/ledger` : null);
  const recording = useApi<Recording>(s?.recording ? `/v1/sessions/${enc(id)}/recording` : null);
  const report = useApi<Report>(s?.report ? `/v1/sessions/${enc(id)}/report` : null);
  const reload = () => {
    session.reload();
    ledger.reload();
    recording.reload();
    report.reload();
  };
  if (session.error)
    return (
      <>
        <h1>Session</h1>
        <ErrorState error={session.error} retry={session.reload} />
        <p>
          <a href={href("sessions")}>Back to sessions</a>
        </p>
      </>
    );
  if (!s)
    return (
      <>
        <h1>Session</h1>
        <Loading what="the session" />
      </>
    );
  return (
    <>
      <p>
        <a href={href("sessions")}>← Sessions</a>
      </p>
      <h1>Session {formatDateTime(s.startTime)}</h1>
      <Actions s={s} onDone={reload} />
      <Section title="Session">
        <Facts s={s} currency={currency} />
      </Section>
      <Section title="Ledger entries">
        <Ledger q={ledger} s={s} currency={currency} />
      </Section>
      <Section title="Recording">
        <RecordingView q={recording} present={!!s.recording} possible={possible} />
      </Section>
      <Section title="Report">
        <ReportView q={report} present={!!s.report} hasRecording={!!s.recording} onDone={reload} />
      </Section>
    </>
  );
}
