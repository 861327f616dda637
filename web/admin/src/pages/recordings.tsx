/**
 * The recording pipeline's queue: recordings by transcription status (failed ones by default, the
 * ones an admin can restart), most recently updated first; and one session's recording and report,
 * as the session page shows them.
 */
import { ApiError, api } from "../api";
import { href, navigate, type Route } from "../router";
import { type Recording, type Report, transcriptionStatuses } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { Select } from "../ui/field";
import { PagedView, usePaged } from "../ui/paged";
import { Empty, ErrorState, Loading } from "../ui/states";
import type { Loaded } from "../ui/use-api";
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

/*
 * One session's recording and lesson report, as the session page shows them (a report is written
 * from a recording's transcript, so both live here). A 404 is "none yet", not an error.
 */
const isMissing = (e: unknown) => e instanceof ApiError && e.problem.status === 404;
const enc = encodeURIComponent;

export function RecordingView({
  q,
  present,
  possible,
}: {
  q: Loaded<Recording>;
  /** Whether the session has a recording (the admin session read says so). */
  present: boolean;
  /** Whether it could have one (a lesson that started). */
  possible: boolean;
}) {
  if (!present || isMissing(q.error))
    return (
      <Empty>
        <p>
          No recording uploaded.{" "}
          {possible
            ? "The tutor (or an admin) uploads it during or after the lesson."
            : "Only a lesson in progress or completed can have one."}
        </p>
      </Empty>
    );
  if (q.error) return <ErrorState error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading what="the recording" />;
  const r = q.data;
  return (
    <dl class="facts">
      <dt>Transcription</dt>
      <dd>
        <Badge value={r.transcriptionStatus} /> (updated <Time ms={r.updatedAt} />)
      </dd>
      <dt>Uploaded</dt>
      <dd>
        <Time ms={r.createdAt} />
      </dd>
      {r.transcriptionError && (
        <>
          <dt>Error</dt>
          <dd class="negative">{r.transcriptionError}</dd>
        </>
      )}
      {r.transcriptionMeta && (
        <>
          <dt>Language</dt>
          <dd>
            {r.transcriptionMeta.language}, confidence {Math.round(r.transcriptionMeta.confidence * 100)} %
          </dd>
        </>
      )}
      <dt>Transcript</dt>
      <dd>
        {r.transcriptionText ? (
          <details>
            <summary>Show the transcript ({r.transcriptionText.length} characters)</summary>
            <pre class="body">{r.transcriptionText}</pre>
          </details>
        ) : (
          <span class="muted">none yet</span>
        )}
      </dd>
    </dl>
  );
}

export function ReportView({
  q,
  present,
  hasRecording,
  onDone,
}: {
  q: Loaded<Report>;
  /** Whether the session has a report (the admin session read says so). */
  present: boolean;
  hasRecording: boolean;
  onDone: () => void;
}) {
  if (!present || isMissing(q.error))
    return (
      <Empty>
        <p>
          {hasRecording
            ? "No report yet. A draft is written from the transcript once the recording is transcribed."
            : "No report: a report is written from a recording, and this lesson has none."}
        </p>
      </Empty>
    );
  if (q.error) return <ErrorState error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading what="the report" />;
  const r = q.data;
  return (
    <>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <Badge value={r.status} /> version {r.version}
          {r.editedByTutor ? ", edited by a person" : ", as the model wrote it"}
        </dd>
        <dt>Published</dt>
        <dd>
          <Time ms={r.publishedAt} />
        </dd>
        <dt>Summary</dt>
        <dd class="pre-line">{r.summary}</dd>
        <dt>Topics covered</dt>
        <dd>
          <ul class="facts-list">
            {r.topicsCovered.map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
        </dd>
        <dt>Next steps</dt>
        <dd>
          <ul class="facts-list">
            {r.nextSteps.map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
        </dd>
      </dl>
      {r.status === "draft" && (
        <div class="actions-row">
          <ConfirmAction
            label="Publish report"
            title="Publish this report to the student?"
            onDone={onDone}
            run={async () => {
              await api("POST", `/v1/sessions/${enc(r.sessionId)}/report/publish`);
              return "Report published. The student was notified; the report is now final.";
            }}
          >
            <p>
              The student sees it at once and is told in the app and by e-mail. A published report cannot be edited.
            </p>
          </ConfirmAction>
        </div>
      )}
    </>
  );
}
