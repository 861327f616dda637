/**
 * Every lesson, filtered by status, settlement status and start time. The filters live in the hash
 * query (#/sessions?settlementStatus=disputed), so the dashboard links straight to a queue and a
 * reload keeps the view; #/sessions/:id is one session (session.tsx).
 */
import { adminTimeZone, fromLocalInput, toLocalInput } from "../format";
import { href, navigate, type Route } from "../router";
import { type Session, sessionStatuses, settlementStatuses } from "../types";
import { Field, Select } from "../ui/field";
import { PagedView, usePaged } from "../ui/paged";
import { Badge, Credits, Time } from "../ui/values";
import { minutesBetween, SessionDetail } from "./session";

const FILTERS = ["status", "settlementStatus", "from", "to"] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** Only values the API accepts are kept: a hand-edited link falls back to "any" instead of a 400. */
function filtersOf(q: URLSearchParams): Filters {
  const pick = (name: string, allowed: readonly string[]) => {
    const v = q.get(name) ?? "";
    return allowed.includes(v) ? v : undefined;
  };
  const time = (name: string) => {
    const v = q.get(name) ?? "";
    return /^\d{1,15}$/.test(v) ? v : undefined;
  };
  return {
    status: pick("status", sessionStatuses),
    settlementStatus: pick("settlementStatus", settlementStatuses),
    from: time("from"),
    to: time("to"),
  };
}

function SessionList({ route }: { route: Route }) {
  const filters = filtersOf(route.query);
  const list = usePaged<Session>("/v1/admin/sessions", filters);
  const set = (name: keyof Filters, value: string | undefined) =>
    navigate(href("sessions", { ...filters, [name]: value || undefined }));
  const filtered = FILTERS.some((f) => filters[f] !== undefined);
  return (
    <>
      <h1>Sessions</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Select
          label="Status"
          name="status"
          value={filters.status ?? ""}
          options={["", ...sessionStatuses]}
          onChange={(e) => set("status", e.currentTarget.value)}
        />
        <Select
          label="Settlement status"
          name="settlementStatus"
          value={filters.settlementStatus ?? ""}
          options={["", ...settlementStatuses]}
          onChange={(e) => set("settlementStatus", e.currentTarget.value)}
        />
        <Field
          label="From"
          name="from"
          type="datetime-local"
          value={filters.from ? toLocalInput(Number(filters.from)) : ""}
          onChange={(e) => set("from", fromLocalInput(e.currentTarget.value)?.toString())}
        />
        <Field
          label="To"
          name="to"
          type="datetime-local"
          value={filters.to ? toLocalInput(Number(filters.to)) : ""}
          onChange={(e) => set("to", fromLocalInput(e.currentTarget.value)?.toString())}
        />
        {filtered && (
          <button type="button" onClick={() => navigate(href("sessions"))}>
            Clear filters
          </button>
        )}
        <p class="muted">
          Times in {adminTimeZone}. By start time: {filters.from ? "earliest first from From" : "latest first"}; To is
          exclusive.
        </p>
      </form>
      <PagedView
        list={list}
        what="sessions"
        empty={
          filters.settlementStatus === "disputed" ? (
            <p>No dispute open: nothing to resolve. Students' disputes of completed lessons appear here.</p>
          ) : filtered ? (
            <p>No session matches these filters. Widen the time range or pick "any" above.</p>
          ) : (
            <p>No sessions yet. They appear here as soon as a student books a lesson.</p>
          )
        }
      >
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Starts</th>
                <th scope="col">Duration</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Cost
                </th>
                <th scope="col" class="num">
                  Refunded
                </th>
                <th scope="col">No-show</th>
                <th scope="col">Session</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Time ms={s.startTime} />
                  </td>
                  <td>{minutesBetween(s)} min</td>
                  <td>
                    <Badge value={s.status} /> <Badge value={s.settlementStatus} />
                  </td>
                  <td class="num">
                    <Credits n={s.creditsCost} />
                  </td>
                  <td class="num">
                    <Credits n={s.refundedCredits} />
                  </td>
                  <td>{s.noShow ?? "—"}</td>
                  <td>
                    <a href={href("sessions", s.id)}>Open</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PagedView>
    </>
  );
}

export function Sessions({ route }: { route: Route }) {
  const id = route.parts[1];
  // keyed by id: another session starts from empty state, never from the previous one's data
  return id ? <SessionDetail key={id} id={id} /> : <SessionList route={route} />;
}
