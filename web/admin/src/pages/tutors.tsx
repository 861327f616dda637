/** Tutors by status: the approval queue (oldest first) and the approved, rejected and suspended ones. */
import { api } from "../api";
import { href, navigate, type Route } from "../router";
import { type TutorProfile, tutorStatuses } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { Select, TextArea } from "../ui/field";
import { PagedView, usePaged } from "../ui/paged";
import { Badge, Credits, Time } from "../ui/values";

type Status = (typeof tutorStatuses)[number];
type Settable = Exclude<Status, "pending">;

const verbs: Record<Settable, { label: string; done: string; danger: boolean }> = {
  approved: { label: "Approve", done: "approved: now listed and bookable", danger: false },
  rejected: { label: "Reject", done: "rejected", danger: true },
  suspended: { label: "Suspend", done: "suspended: hidden, booked lessons stay", danger: true },
};

function StatusAction({ tutor, to, onDone }: { tutor: TutorProfile; to: Settable; onDone: () => void }) {
  const v = verbs[to];
  return (
    <ConfirmAction
      label={v.label}
      title={`${v.label} ${tutor.displayName}?`}
      danger={v.danger}
      onDone={onDone}
      fields={
        <TextArea
          label={to === "approved" ? "Note to the tutor (optional)" : "Reason, shown to the tutor"}
          name="reason"
          maxLength={500}
          required={to !== "approved"}
        />
      }
      run={async (f) => {
        const reason = String(f.get("reason") ?? "").trim();
        await api("POST", `/v1/admin/tutors/${encodeURIComponent(tutor.id)}/status`, {
          status: to,
          ...(reason ? { reason } : {}),
        });
        return `${tutor.displayName} ${v.done}. The tutor was notified.`;
      }}
    >
      <p>
        The tutor is told in the app and by e-mail
        {to === "suspended" ? "; their booked lessons are not cancelled (cancel them from Sessions if needed)" : ""}.
      </p>
    </ConfirmAction>
  );
}

export function Tutors({ route }: { route: Route }) {
  const status = (tutorStatuses as readonly string[]).includes(route.query.get("status") ?? "")
    ? (route.query.get("status") as Status)
    : "pending";
  const list = usePaged<TutorProfile>("/v1/admin/tutors", { status });
  const actions = (Object.keys(verbs) as Settable[]).filter((s) => s !== status);
  return (
    <>
      <h1>Tutors</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Select
          label="Status"
          name="status"
          value={status}
          options={tutorStatuses}
          onChange={(e) => navigate(href("tutors", { status: e.currentTarget.value }))}
        />
        <p class="muted">{status === "pending" ? "Oldest first: the longest waiting at the top." : "Newest first."}</p>
      </form>
      <PagedView
        list={list}
        what={`${status} tutors`}
        empty={
          status === "pending" ? (
            <p>Nobody is waiting for approval. New tutor profiles appear here when they sign up.</p>
          ) : (
            <p>No {status} tutors. Pick another status above.</p>
          )
        }
      >
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Tutor</th>
                <th scope="col">Subjects</th>
                <th scope="col">Price per hour</th>
                <th scope="col">Status</th>
                <th scope="col">Signed up</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id}>
                  <td>
                    {t.userId ? <a href={href("users", t.userId)}>{t.displayName}</a> : t.displayName}
                    {t.bio && <p class="muted clamp">{t.bio}</p>}
                  </td>
                  <td>{(t.subjects ?? []).map((s) => s.name).join(", ") || "—"}</td>
                  <td>
                    <Credits n={t.hourlyCreditsPrice} />
                  </td>
                  <td>
                    <Badge value={t.status} />
                    {t.statusReason && <p class="muted">{t.statusReason}</p>}
                  </td>
                  <td>
                    <Time ms={t.createdAt} />
                  </td>
                  <td class="actions">
                    {actions.map((a) => (
                      <StatusAction key={a} tutor={t} to={a} onDone={list.reload} />
                    ))}
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
