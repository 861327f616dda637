/**
 * The audit log (#/audit-log): every admin action, newest first, optionally of one actor and/or on
 * one target. The filters live in the hash's query (#/audit-log?targetId=u_1), so other pages link
 * to "this user's audit trail".
 */
import { href, navigate, type Route } from "../router";
import type { AuditEntry } from "../types";
import { Field } from "../ui/field";
import { PagedView, usePaged } from "../ui/paged";
import { Id, Time } from "../ui/values";

/** Where a target's own page is, for the target types that have one. */
const targetPages: Record<string, string> = { user: "users", session: "sessions" };

/** The platform's own actions (a refund the card processor refused) name this actor. */
const SYSTEM = "system";

function Target({ type, id }: { type: string; id: string }) {
  const page = targetPages[type];
  return (
    <>
      <span class="muted">{type.replace(/_/g, " ")}</span>{" "}
      {page ? (
        <a href={href(page, id)}>
          <Id id={id} />
        </a>
      ) : (
        <Id id={id} />
      )}
    </>
  );
}

/** `details` as a short key: value list (its values are strings, numbers, booleans or null). */
function Details({ details }: { details: AuditEntry["details"] }) {
  const entries = Object.entries(details ?? {});
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <dl class="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

export function AuditLog({ route }: { route: Route }) {
  const actorId = route.query.get("actorId")?.trim() ?? "";
  const targetId = route.query.get("targetId")?.trim() ?? "";
  const list = usePaged<AuditEntry>("/v1/admin/audit-log", { actorId, targetId });
  const filter = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    navigate(
      href("audit-log", {
        actorId: String(f.get("actorId") ?? "").trim(),
        targetId: String(f.get("targetId") ?? "").trim(),
      }),
    );
  };
  const filtered = actorId || targetId;
  return (
    <>
      <h1>Audit log</h1>
      <form class="filters" onSubmit={filter} aria-label="Filter the audit log" key={`${actorId}|${targetId}`}>
        <Field
          label="Actor id"
          name="actorId"
          defaultValue={actorId}
          autoComplete="off"
          hint="An admin's user id, or system"
        />
        <Field
          label="Target id"
          name="targetId"
          defaultValue={targetId}
          autoComplete="off"
          hint="A user, order, session, tutor profile, … id"
        />
        <button type="submit" class="primary">
          Filter
        </button>
        {filtered && <a href={href("audit-log")}>Show every action</a>}
      </form>
      <p class="muted">
        Newest first. Every admin action leaves exactly one row; refused or repeated actions leave none.
      </p>
      <PagedView
        list={list}
        what="audit rows"
        empty={
          filtered ? (
            <p>
              No admin action matches these ids. Check them (whole ids are needed), or{" "}
              <a href={href("audit-log")}>show every action</a>.
            </p>
          ) : (
            <p>No admin has acted yet. Approvals, adjustments, refunds and other admin actions appear here.</p>
          )
        }
      >
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Time ms={a.createdAt} />
                  </td>
                  <td>
                    <code class="word">{a.action}</code>
                  </td>
                  <td>
                    {a.actorUserId === SYSTEM ? (
                      <span class="muted">the platform</span>
                    ) : (
                      <a href={href("users", a.actorUserId)}>
                        <Id id={a.actorUserId} />
                      </a>
                    )}
                  </td>
                  <td>
                    <Target type={a.targetType} id={a.targetId} />
                  </td>
                  <td>
                    <Details details={a.details} />
                  </td>
                  <td>{a.requestId ? <Id id={a.requestId} /> : <span class="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PagedView>
    </>
  );
}
