/**
 * The demo's lesson report review, after the main demo's upload: the model's report is a draft the
 * tutor sees and the student does not (404); the tutor edits it, regenerates it with instructions
 * (the emulated model quotes them), publishes it; then the student reads it and is notified.
 */
import { type Client, poll, type Tokens } from "../tools/offline/client.ts";

export interface ReportsDemo {
  c: Client;
  step: (msg: string, detail?: unknown) => void;
  student: Tokens;
  tutor: Tokens;
  sessionId: string;
}

interface Report {
  summary: string;
  topicsCovered: string[];
  nextSteps: string[];
  status: string;
  version: number;
  editedByTutor: boolean;
}

/** Returns the published report as the student reads it. */
export async function reportsJourney({ c, step, student, tutor, sessionId }: ReportsDemo): Promise<Report> {
  const path = `/v1/sessions/${sessionId}/report`;
  const draft = await poll("the lesson report draft", 30_000, async () => {
    const r = await c.call<Report>(path, { token: tutor.accessToken });
    return r.status === 200 ? r.body : undefined;
  });
  step("OpenAI (emulated) wrote the lesson report as a draft; the tutor was notified (report_draft_ready)", {
    status: draft.status,
    version: draft.version,
    summary: draft.summary,
    topicsCovered: draft.topicsCovered,
    nextSteps: draft.nextSteps,
  });
  const hidden = await c.call(path, { token: student.accessToken });
  step(`The student cannot see the draft yet: GET ${path} → ${hidden.status}`);

  const edited = await c.ok<Report>(path, {
    method: "PATCH",
    token: tutor.accessToken,
    body: { nextSteps: ["Exercises 3 to 7 on page 12", "Practise completing the square"] },
  });
  step("Tutor edited the next steps (PATCH: a new version, editedByTutor)", {
    version: edited.version,
    editedByTutor: edited.editedByTutor,
    nextSteps: edited.nextSteps,
  });

  const instructions = "Praise the progress on factoring and keep it short.";
  await c.ok(`${path}/regenerate`, { token: tutor.accessToken, body: { instructions } }, 202);
  const regenerated = await poll("the regenerated draft", 30_000, async () => {
    const r = await c.call<Report>(path, { token: tutor.accessToken });
    return r.status === 200 && r.body.version > edited.version ? r.body : undefined;
  });
  step(`Tutor regenerated it with instructions ("${instructions}"): a new draft version from the stored transcript`, {
    version: regenerated.version,
    summary: regenerated.summary,
  });
  const versions = await c.ok<{ items: { version: number; source: string; instructions: string | null }[] }>(
    `${path}/versions`,
    { token: tutor.accessToken },
  );
  step(
    "Every version is kept (newest first)",
    versions.items.map((v) => `v${v.version} ${v.source}${v.instructions ? ` (instructions: ${v.instructions})` : ""}`),
  );

  await c.ok(`${path}/publish`, { method: "POST", token: tutor.accessToken });
  const seen = await c.ok<Report>(path, { token: student.accessToken });
  const ready = await poll("report_ready", 10_000, async () => {
    const n = await c.ok<{ items: { type: string }[] }>("/v1/notifications", { token: student.accessToken });
    return n.items.find((x) => x.type === "report_ready");
  });
  step(`Tutor published it; the student reads it and got ${ready.type} (in-app and e-mail)`, {
    status: seen.status,
    summary: seen.summary,
    nextSteps: seen.nextSteps,
  });
  return seen;
}
