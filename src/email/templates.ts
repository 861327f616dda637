/** E-mail templates: subject, text and HTML for each kind of mail. */
export interface Rendered {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

function layout(title: string, paragraphs: string[]): Rendered {
  return {
    subject: title,
    text: paragraphs.join("\n\n"),
    html: `<!doctype html><html><body style="font-family:sans-serif"><h1>${escapeHtml(title)}</h1>${paragraphs
      .map((p) => `<p>${escapeHtml(p)}</p>`)
      .join("")}</body></html>`,
  };
}

export const templates = {
  otp: (code: string) =>
    layout(`Your tutorloop code: ${code}`, [
      `Your one-time login code is ${code}.`,
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
      `A payment of ${(cents / 100).toFixed(2)} ${currency.toUpperCase()} arrived after its checkout had already closed, so no credits were added and we refunded it to your card.`,
    ]),
  sessionScheduled: (when: string, withWhom: string) =>
    layout("Session scheduled", [`Your session with ${withWhom} is booked for ${when} (UTC).`]),
  sessionCancelled: (when: string, refunded: boolean) =>
    layout("Session cancelled", [
      `The session of ${when} (UTC) was cancelled.`,
      refunded ? "Its credits were refunded." : "Its credits were not refunded (late cancellation).",
    ]),
  reportReady: (subject: string, summary: string) =>
    layout(`Your lesson report is ready: ${subject}`, [
      summary,
      "Open tutorloop to see the topics covered and next steps.",
    ]),
  sessionReminder: (when: string, hours: number) =>
    layout(`Reminder: session in ${hours} hour${hours === 1 ? "" : "s"}`, [`Your session starts at ${when} (UTC).`]),
};
