/**
 * The recording pipeline's queue: recordings by transcription status (failed ones by default, the
 * ones an admin can restart), most recently updated first.
 */
import { api } from "../api";
import { href, navigate, type Route } from "../router";
import { type Recording, transcriptionStatuses } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { Select } from "../ui/field";
import { PagedView, usePaged } from "../ui/paged";
import { Badge, Time } from "../ui/values";

type Status = (typeof transcriptionStatuses)[number];

/**
 * What the retry route restarts: a failed transcription, or the report of a completed transcription
 * whose report job failed (it keeps its transcript and carries the report's error).
 */
const retryable = (r: Recording) =>
  r.transcriptionStatus === "failed" || (r.transcriptionStatus === "completed" && !!r.transcriptionError);

const emptyText: Record<Status, string> = {
  failed: "No failed recording: every transcription and report went through. Nothing to retry.",
  pending: "No recording waits to be sent for transcription.",
  processing: "No recording is being transcribed right now.",
  completed: "No transcribed recording yet. They appear once tutors upload lesson audio.",
};

export function Recordings({ route }: { route: Route }) {
  const q = route.query.get("status") ?? "";
  const status: Status = (transcriptionStatuses as readonly string[]).includes(q) ? (q as Status) : "failed";
  const list = usePaged<Recording>("/v1/admin/recordings", { status });
  return (
    <>
      <h1>Recordings</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Select
          label="Status"
          name="status"
          value={status}
          options={transcriptionStatuses}
          onChange={(e) => navigate(href("recordings", { status: e.currentTarget.value }))}
        />
        <p class="muted">
          Most recently updated first. Stuck ones are retried, then failed, by a sweep within 12 hours.
        </p>
      </form>
      <PagedView list={list} what={`${status} recordings`} empty={<p>{emptyText[status]}</p>}>
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Updated</th>
                <th scope="col">Session</th>
                <th scope="col">Status</th>
                <th scope="col">Error</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Time ms={r.updatedAt} />
                  </td>
                  <td>
                    <a href={href("sessions", r.sessionId)}>Session {r.sessionId}</a>
                  </td>
                  <td>
                    <Badge value={r.transcriptionStatus} />
                  </td>
                  <td>{r.transcriptionError ?? <span class="muted">—</span>}</td>
                  <td>
                    {retryable(r) && (
                      <ConfirmAction
                        label="Retry"
                        title="Retry this recording?"
                        onDone={list.reload}
                        run={async () => {
                          const res = await api<{ id: string; action: "transcription" | "report" }>(
                            "POST",
                            `/v1/admin/recordings/${encodeURIComponent(r.id)}/retry`,
                          );
                          return res.action === "report"
                            ? "The report is being written again from the stored transcript."
                            : "The transcription was restarted; the report follows when it completes.";
                        }}
                      >
                        <p>
                          What failed runs again: the transcription, or the report when the transcript is there. It
                          counts towards the session's 5 report generations.
                        </p>
                      </ConfirmAction>
                    )}
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
