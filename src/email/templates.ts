/**
 * E-mail templates: subject, text and HTML for each kind of mail.
 *
 * Every string parameter goes through `userText` (user-text.ts) before it is used, whoever supplied
 * it: one line, no links or addresses, bounded. People's text is shown quoted (`student “Sam”`), so a
 * name can never read as our own words; the HTML escapes everything it prints. A mail names the other
 * participant by display name only, never by e-mail address.
 */
import { userText } from "./user-text";

export interface Rendered {
  subject: string;
  text: string;
  html: string;
}

/** Bounds for people's text in e-mails (characters). */
export const NAME_MAX = 60;
export const SUMMARY_MAX = 300;
export const SUBJECT_MAX = 120;

const escapeHtml = (s: string) =>
  s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");

/** Someone's text as a quoted, neutral value. */
const quoted = (s: string, max: number) => `“${userText(s, max)}”`;
/** A value of ours that still arrives as a string (a formatted time, a code): one bounded line. */
const plain = (s: string, max = 40) => userText(s, max);
/** An amount in a currency's minor unit, e.g. `32.00 USD`. */
const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${plain(currency, 8).toUpperCase()}`;

function layout(title: string, paragraphs: string[]): Rendered {
  // the subject is one header line: neutralized once more as a whole and bounded
  const subject = userText(title, SUBJECT_MAX);
  return {
    subject,
    text: paragraphs.join("\n\n"),
    html: `<!doctype html><html><body style="font-family:sans-serif"><h1>${escapeHtml(subject)}</h1>${paragraphs
      .map((p) => `<p>${escapeHtml(p)}</p>`)
      .join("")}</body></html>`,
  };
}

export const templates = {
  otp: (code: string) =>
    layout(`Your tutorloop code: ${plain(code, 12)}`, [
      `Your one-time login code is ${plain(code, 12)}.`,
      "It is valid for 10 minutes. If you did not ask for it, ignore this e-mail.",
    ]),
  paymentCompleted: (credits: number, balance: number) =>
    layout("Your credits are ready", [
      `We added ${credits} credits to your account.`,
      `Your balance is now ${balance}.`,
    ]),
  paymentFailed: () =>
    layout("Your payment did not go through", [
      "Your credit purchase could not be completed. No credits were charged.",
    ]),
  paymentRefunded: (credits: number, balance: number) =>
    layout("Your card payment was refunded", [
      `A refund to your card took back ${credits} credit${credits === 1 ? "" : "s"} of that purchase.`,
      balance < 0
        ? `Your balance is now ${balance}: those credits were already spent, so new bookings need a purchase first.`
        : `Your balance is now ${balance}.`,
    ]),
  paymentDisputed: (credits: number, balance: number) =>
    layout("Your card payment is disputed", [
      `Your bank disputed a tutorloop payment, so its ${credits} credit${credits === 1 ? " was" : "s were"} taken back while the dispute is open.`,
      `Your balance is now ${balance}. If the dispute is resolved in our favour the credits come back.`,
    ]),
  paymentReinstated: (credits: number, balance: number) =>
    layout("Your credits are back", [
      `The dispute was closed and ${credits} credit${credits === 1 ? " was" : "s were"} returned to your account.`,
      `Your balance is now ${balance}.`,
    ]),
  paymentReturned: (cents: number, currency: string) =>
    layout("We refunded a late payment", [
      `A payment of ${(cents / 100).toFixed(2)} ${plain(currency, 8).toUpperCase()} arrived after its checkout had already closed, so no credits were added and we refunded it to your card.`,
    ]),
  /**
   * To one participant about the other: `other` is the other's display name (null when they have
   * none: never fall back to an e-mail address), `otherRole` what they are in this session.
   */
  sessionScheduled: (when: string, other: string | null, otherRole: "student" | "tutor") =>
    layout("Session scheduled", [
      `Your session with ${other ? `${otherRole} ${quoted(other, NAME_MAX)}` : `a ${otherRole}`} is booked for ${plain(when)} (UTC).`,
    ]),
  /** One mail per participant for a whole weekly series (not one per lesson). */
  seriesScheduled: (whens: string[], other: string | null, otherRole: "student" | "tutor") =>
    layout(`${whens.length} weekly sessions scheduled`, [
      `Your weekly sessions with ${other ? `${otherRole} ${quoted(other, NAME_MAX)}` : `a ${otherRole}`} are booked (times in UTC):`,
      ...whens.map((w) => `- ${plain(w)}`),
      "Each one can be moved or cancelled on its own.",
    ]),
  /** The summary of a series' cancellation: which lessons were cancelled, how many refunded. */
  seriesCancelled: (whens: string[], refunded: number) =>
    layout(`${whens.length} weekly sessions cancelled`, [
      `These sessions were cancelled (times in UTC):`,
      ...whens.map((w) => `- ${plain(w)}`),
      refunded === whens.length
        ? "Their credits were refunded."
        : `${refunded} of them were refunded; the others were cancelled too late for a refund.`,
    ]),
  /**
   * To a participant whose lesson someone else moved: `by` is the mover's display name (null when
   * they have none, never an e-mail address), `byRole` what they are (an admin is named by role only).
   */
  sessionRescheduled: (from: string, to: string, by: string | null, byRole: "student" | "tutor" | "admin") =>
    layout("Session rescheduled", [
      `Your session of ${plain(from)} (UTC) was moved to ${plain(to)} (UTC) by ${
        byRole === "admin" ? "an administrator" : by ? `${byRole} ${quoted(by, NAME_MAX)}` : `your ${byRole}`
      }.`,
      "The video link stays the same.",
    ]),
  sessionCancelled: (when: string, refunded: boolean) =>
    layout("Session cancelled", [
      `The session of ${plain(when)} (UTC) was cancelled.`,
      refunded ? "Its credits were refunded." : "Its credits were not refunded (late cancellation).",
    ]),
  /** To `recipient` about the reported absence of `party` (a tutor no-show is refunded at once). */
  sessionNoShow: (when: string, party: "student" | "tutor", recipient: "student" | "tutor", refunded: boolean) =>
    layout("No-show reported", [
      `The session of ${plain(when)} (UTC) was reported as a ${party === recipient ? "no-show on your part" : `no-show by the ${party}`}.`,
      party === "tutor"
        ? refunded
          ? "The lesson was cancelled and its credits were refunded to the student."
          : "The lesson was cancelled."
        : recipient === "student"
          ? "The lesson counts as held. If you did attend, you can dispute it in tutorloop before it is settled."
          : "The lesson counts as held and settles after the hold period unless the student disputes it.",
    ]),
  /** To a participant: the student disputed the lesson; an administrator decides. */
  sessionDisputed: (when: string, recipient: "student" | "tutor") =>
    layout("Session disputed", [
      recipient === "student"
        ? `We received your dispute of the session of ${plain(when)} (UTC).`
        : `The student disputed the session of ${plain(when)} (UTC).`,
      "Its credits stay on hold until an administrator resolves it.",
    ]),
  /** To a participant: an administrator split the session's credits. */
  sessionResolved: (when: string, refundedCredits: number, creditsCost: number) =>
    layout("Session dispute resolved", [
      `An administrator resolved the session of ${plain(when)} (UTC).`,
      refundedCredits === 0
        ? "No credits were refunded: the tutor is paid for the whole lesson."
        : refundedCredits === creditsCost
          ? `All ${creditsCost} credits were refunded to the student.`
          : `${refundedCredits} of its ${creditsCost} credits were refunded to the student; the tutor is paid for the rest.`,
    ]),
  /** To the student: the lesson was marked held; it settles after the hold unless disputed. */
  sessionCompleted: (when: string, holdHours: number) =>
    layout("Session completed", [
      `Your session of ${plain(when)} (UTC) was marked as held.`,
      `If something went wrong, you can dispute it in tutorloop within ${holdHours} hours of its end; after that it is settled.`,
    ]),
  sessionAutoCompleted: (when: string) =>
    layout("Session completed", [
      `The session of ${plain(when)} (UTC) was started but never marked complete, so it was completed automatically.`,
    ]),
  sessionNotHeld: (when: string) =>
    layout("Session cancelled: not held", [
      `The session of ${plain(when)} (UTC) was never started and nobody reported it, so it was cancelled.`,
      "Its credits were refunded to the student.",
    ]),
  /** The hold ended: the tutor's earning (`cents` in `currency`) is available; the student is told it is final. */
  sessionSettled: (when: string, recipient: "student" | "tutor", cents: number, currency: string) =>
    layout("Session settled", [
      recipient === "tutor"
        ? `The session of ${plain(when)} (UTC) is settled: you earned ${(cents / 100).toFixed(2)} ${plain(currency, 8).toUpperCase()}.`
        : `The session of ${plain(when)} (UTC) is settled; its credits are final.`,
    ]),
  payoutPaid: (cents: number, currency: string) =>
    layout("You have been paid", [
      `We sent ${money(cents, currency)} to your payout account. Stripe pays it out to your bank on your account's payout schedule.`,
    ]),
  payoutFailed: (cents: number, currency: string, reason: string) =>
    layout("A payout did not go through", [
      `Your payout of ${money(cents, currency)} could not be made: ${plain(reason, 200)}`,
      "The amount is back in your available balance and will be paid in the next payout run. Check your payout account's details in tutorloop.",
    ]),
  reportReady: (subject: string, summary: string) =>
    layout(`Your lesson report is ready: ${userText(subject, NAME_MAX)}`, [
      quoted(summary, SUMMARY_MAX),
      "Open tutorloop to see the topics covered and next steps.",
    ]),
  /** To a tutor: an administrator changed their profile's status; `reason` is the admin's text (cut to 300 here). */
  tutorStatusChanged: (status: "approved" | "rejected" | "suspended", reason: string | null) =>
    layout(
      status === "approved"
        ? "Your tutor profile is approved"
        : status === "rejected"
          ? "Your tutor profile was not approved"
          : "Your tutor profile is suspended",
      [
        status === "approved"
          ? "Students can now find you in the directory and book your slots."
          : status === "rejected"
            ? "An administrator reviewed your tutor profile and did not approve it. Students cannot find or book you."
            : "An administrator suspended your tutor profile: students cannot find or book you. Sessions already booked stay booked.",
        ...(reason ? [`Reason: ${quoted(reason, SUMMARY_MAX)}`] : []),
      ],
    ),
  /** To the tutor: the model wrote a draft (a new version); the student sees it once it is published. */
  reportDraftReady: (subject: string, summary: string, reviewHours: number) =>
    layout(`A lesson report draft is ready for review: ${userText(subject, NAME_MAX)}`, [
      quoted(summary, SUMMARY_MAX),
      `Open tutorloop to edit, regenerate or publish it. Your student sees it once it is published; unless you publish it earlier, that happens automatically in ${Math.max(0, Math.floor(reviewHours))} hour${reviewHours === 1 ? "" : "s"}.`,
    ]),
  sessionReminder: (when: string, hours: number) =>
    layout(`Reminder: session in ${hours} hour${hours === 1 ? "" : "s"}`, [
      `Your session starts at ${plain(when)} (UTC).`,
    ]),
};
