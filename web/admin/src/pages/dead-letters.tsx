/**
 * Queue jobs that exhausted their retries or were refused, newest first; an admin replays one once
 * its cause is fixed (jobs are idempotent: a replayed payment credits at most once).
 */
import { api } from "../api";
import type { DeadLetter } from "../types";
import { ConfirmAction } from "../ui/confirm";
import { PagedView, usePaged } from "../ui/paged";
import { Time } from "../ui/values";

/** The stored body is JSON (the job and why it stopped): indented for reading, as is when it is not. */
function readable(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function DeadLetters() {
  const list = usePaged<DeadLetter>("/v1/admin/dead-letters");
  return (
    <>
      <h1>Dead letters</h1>
      <p class="muted">Newest first. Fix the cause (see the body and the logs) before replaying.</p>
      <PagedView
        list={list}
        what="dead letters"
        empty={<p>No dead letter: every queue job went through. Nothing to do.</p>}
      >
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Queue</th>
                <th scope="col">Type</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">Replayed</th>
                <th scope="col">Body</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Time ms={d.createdAt} />
                  </td>
                  <td>{d.queue}</td>
                  <td>{d.type ? <code>{d.type}</code> : <span class="muted">—</span>}</td>
                  <td class="num">{d.attempts}</td>
                  <td>
                    {d.replayCount > 0 ? (
                      <>
                        {d.replayCount}× (last <Time ms={d.replayedAt} />)
                      </>
                    ) : (
                      <span class="muted">never</span>
                    )}
                  </td>
                  <td>
                    <details>
                      <summary>Show</summary>
                      <pre class="body">{readable(d.body)}</pre>
                    </details>
                  </td>
                  <td>
                    <ConfirmAction
                      label="Replay"
                      title={`Replay this ${d.type ?? "job"}?`}
                      onDone={list.reload}
                      run={async () => {
                        const r = await api<{ type: string; replayCount: number }>(
                          "POST",
                          `/v1/admin/dead-letters/${encodeURIComponent(d.id)}/replay`,
                        );
                        return `Replayed: the ${r.type} job is back on the ${d.queue} queue (replay ${r.replayCount}).`;
                      }}
                    >
                      <p>
                        The stored job is checked again and put back on its queue. Jobs are idempotent, so what already
                        happened does not happen twice. E-mails and payment mismatches are records and cannot be
                        replayed.
                      </p>
                    </ConfirmAction>
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
