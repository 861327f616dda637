/**
 * The demo's lesson report review, after the main demo's upload: the model's report is a draft the
 * tutor sees and the student does not (404); the tutor edits it, regenerates it with instructions
 * (the emulated model quotes them), publishes it; then the student reads it and is notified.
 * Every API call goes through the typed SDK.
 */
import { unwrap } from "../sdk/src/index.ts";
import { type Client, poll, type Tokens } from "../tools/offline/client.ts";
import { sdkAs } from "./demo-sdk.ts";

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
  const asTutor = sdkAs(c, tutor);
  const asStudent = sdkAs(c, student);
  const ofSession = { params: { path: { id: sessionId } } };
  const draft = await poll("the lesson report draft", 30_000, async () => {
    const r = await asTutor.GET("/v1/sessions/{id}/report", ofSession);
    return r.response.status === 200 ? r.data : undefined;
  });
  step("OpenAI (emulated) wrote the lesson report as a draft; the tutor was notified (report_draft_ready)", {
    status: draft.status,
    version: draft.version,
    summary: draft.summary,
    topicsCovered: draft.topicsCovered,
    nextSteps: draft.nextSteps,
  });
  const hidden = await asStudent.GET("/v1/sessions/{id}/report", ofSession);
  step(`The student cannot see the draft yet: GET ${path} → ${hidden.response.status}`);

  const edited = unwrap(
    await asTutor.PATCH("/v1/sessions/{id}/report", {
      ...ofSession,
      body: { nextSteps: ["Exercises 3 to 7 on page 12", "Practise completing the square"] },
    }),
  );
  step("Tutor edited the next steps (PATCH: a new version, editedByTutor)", {
    version: edited.version,
    editedByTutor: edited.editedByTutor,
    nextSteps: edited.nextSteps,
  });

  const instructions = "Praise the progress on factoring and keep it short.";
  unwrap(await asTutor.POST("/v1/sessions/{id}/report/regenerate", { ...ofSession, body: { instructions } }));
  const regenerated = await poll("the regenerated draft", 30_000, async () => {
    const r = await asTutor.GET("/v1/sessions/{id}/report", ofSession);
    return r.data && r.data.version > edited.version ? r.data : undefined;
  });
  step(`Tutor regenerated it with instructions ("${instructions}"): a new draft version from the stored transcript`, {
    version: regenerated.version,
    summary: regenerated.summary,
  });
  const versions = unwrap(await asTutor.GET("/v1/sessions/{id}/report/versions", ofSession));
  step(
    "Every version is kept (newest first)",
    versions.items.map((v) => `v${v.version} ${v.source}${v.instructions ? ` (instructions: ${v.instructions})` : ""}`),
  );

  unwrap(await asTutor.POST("/v1/sessions/{id}/report/publish", ofSession));
  const seen = unwrap(await asStudent.GET("/v1/sessions/{id}/report", ofSession));
  const ready = await poll("report_ready", 10_000, async () => {
    const n = unwrap(await asStudent.GET("/v1/notifications"));
    return n.items.find((x) => x.type === "report_ready");
  });
  step(`Tutor published it; the student reads it and got ${ready.type} (in-app and e-mail)`, {
    status: seen.status,
    summary: seen.summary,
    nextSteps: seen.nextSteps,
  });
  return seen;
}
