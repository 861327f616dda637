/**
 * The demo catalogue `npm run seed` converges to: subjects, six tutors in six time zones, one
 * student with past and upcoming lessons. Addresses are fixed, so the banner and the README can name
 * them; everyone logs in with a code from the emulator's inbox.
 */

export interface DemoSubject {
  name: string;
  slug: string;
}

export const DEMO_SUBJECTS: DemoSubject[] = [
  { name: "Mathematics", slug: "mathematics" },
  { name: "Physics", slug: "physics" },
  { name: "Chemistry", slug: "chemistry" },
  { name: "English", slug: "english" },
  { name: "Spanish", slug: "spanish" },
  { name: "Computer Science", slug: "computer-science" },
  { name: "Music", slug: "music" },
  { name: "History", slug: "history" },
];

export interface DemoTutor {
  email: string;
  displayName: string;
  bio: string;
  subjects: string[];
  hourlyCreditsPrice: number;
  timezone: string;
  /** Local weekly hours: weekdays (1-5) and Saturday (6), "HH:MM"; null for no Saturday. */
  weekdays: [string, string];
  saturday: [string, string] | null;
  avatar: { bg: string; fg: string };
}

export const DEMO_TUTORS: DemoTutor[] = [
  {
    email: "amara.okafor@tutorloop.local",
    displayName: "Amara Okafor",
    bio: "Maths and physics tutor in London. Ten years of A-level and university prep; I like to start from what you already know.",
    subjects: ["mathematics", "physics"],
    hourlyCreditsPrice: 3,
    timezone: "Europe/London",
    weekdays: ["09:00", "17:00"],
    saturday: ["10:00", "13:00"],
    avatar: { bg: "#2f6f8f", fg: "#f2d7b6" },
  },
  {
    email: "diego.fernandez@tutorloop.local",
    displayName: "Diego Fernández",
    bio: "Spanish from Mexico City: conversation first, grammar when you need it. Also Latin American history.",
    subjects: ["spanish", "history"],
    hourlyCreditsPrice: 2,
    timezone: "America/Mexico_City",
    weekdays: ["08:00", "14:00"],
    saturday: null,
    avatar: { bg: "#b5543c", fg: "#f6e3c8" },
  },
  {
    email: "yuki.tanaka@tutorloop.local",
    displayName: "Yuki Tanaka",
    bio: "Software engineer in Tokyo teaching programming (Python, TypeScript) and the maths behind it.",
    subjects: ["computer-science", "mathematics"],
    hourlyCreditsPrice: 4,
    timezone: "Asia/Tokyo",
    weekdays: ["18:00", "22:00"],
    saturday: ["09:00", "12:00"],
    avatar: { bg: "#3c8d5a", fg: "#fbe9d0" },
  },
  {
    email: "priya.raman@tutorloop.local",
    displayName: "Priya Raman",
    bio: "Chemistry PhD in Bengaluru. Organic chemistry, lab reports and exam technique, with patience.",
    subjects: ["chemistry", "physics"],
    hourlyCreditsPrice: 2,
    timezone: "Asia/Kolkata",
    weekdays: ["10:00", "18:00"],
    saturday: null,
    avatar: { bg: "#7a4b9c", fg: "#e9c9a4" },
  },
  {
    email: "liam.oconnor@tutorloop.local",
    displayName: "Liam O'Connor",
    bio: "English literature and essay writing in New York; college application essays a speciality.",
    subjects: ["english", "history"],
    hourlyCreditsPrice: 3,
    timezone: "America/New_York",
    weekdays: ["15:00", "21:00"],
    saturday: ["10:00", "14:00"],
    avatar: { bg: "#c28b2c", fg: "#fdf1de" },
  },
  {
    email: "sofia.rossi@tutorloop.local",
    displayName: "Sofia Rossi",
    bio: "Pianist and music theory teacher in Sydney. Beginners welcome; I also coach English pronunciation.",
    subjects: ["music", "english"],
    hourlyCreditsPrice: 1,
    timezone: "Australia/Sydney",
    weekdays: ["07:00", "12:00"],
    saturday: ["08:00", "11:00"],
    avatar: { bg: "#b03a6a", fg: "#f8dcc2" },
  },
];

export const DEMO_STUDENT = { email: "sam.student@tutorloop.local", name: "Sam Student" };

/** Credits the student starts with in the seeded history (before the lessons below were paid). */
export const WELCOME_CREDITS = 20;

export interface PastLesson {
  id: string;
  tutorEmail: string;
  subject: string;
  daysAgo: number;
  /** Local start time at the tutor's, "HH:MM". */
  localStart: string;
  report?: { summary: string; topicsCovered: string[]; nextSteps: string[]; transcript: string };
  /** The student contested it: it waits, disputed, for an admin's resolution (the back office's queue). */
  dispute?: string;
}

/** Written as rows (the API cannot book in the past); one has a lesson report. */
export const PAST_LESSONS: PastLesson[] = [
  {
    id: "ses_demo_past_1",
    tutorEmail: "amara.okafor@tutorloop.local",
    subject: "mathematics",
    daysAgo: 9,
    localStart: "10:00",
    report: {
      summary:
        "We practised solving quadratic equations by factoring and with the quadratic formula, and checked answers by substitution.",
      topicsCovered: ["quadratic equations", "factoring", "the quadratic formula"],
      nextSteps: ["practise completing the square", "try the five word problems from the worksheet"],
      transcript:
        "Tutor: Let's factor x squared plus five x plus six. Student: Two and three? Tutor: Exactly, so x is minus two or minus three.",
    },
  },
  {
    id: "ses_demo_past_2",
    tutorEmail: "yuki.tanaka@tutorloop.local",
    subject: "computer-science",
    daysAgo: 5,
    localStart: "19:00",
  },
  {
    id: "ses_demo_past_3",
    tutorEmail: "diego.fernandez@tutorloop.local",
    subject: "spanish",
    daysAgo: 2,
    localStart: "09:00",
    dispute: "The tutor joined twenty minutes late and we stopped early, so I only had half a lesson.",
  },
];

/** A tutor who applied and waits for an admin's approval (the back office's approval queue). */
export const DEMO_APPLICANT = {
  email: "noor.haddad@tutorloop.local",
  displayName: "Noor Haddad",
  bio: "Chemistry graduate from Amman. I tutor GCSE and IB chemistry with lots of worked examples.",
  subjects: ["chemistry"],
  hourlyCreditsPrice: 2,
} as const;

/** Upcoming lessons the seed books through the API (the first free slot from tomorrow). */
export const UPCOMING_WITH = ["amara.okafor@tutorloop.local", "priya.raman@tutorloop.local"];

/** The weekly availability body of `PUT /v1/me/tutor-profile/availability`. */
export function availabilityOf(t: DemoTutor) {
  const weekly = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: t.weekdays[0], end: t.weekdays[1] }));
  if (t.saturday) weekly.push({ weekday: 6, start: t.saturday[0], end: t.saturday[1] });
  return { timezone: t.timezone, weekly };
}

/** The UTC instant of local time `hhmm` in `timeZone` on the day `daysAgo` days before `now`. */
export function localTime(now: number, daysAgo: number, hhmm: string, timeZone: string): number {
  const [h = 0, m = 0] = hhmm.split(":").map(Number);
  const day = new Date(now - daysAgo * 86_400_000);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(day)
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), h, m);
  // the zone's offset at that moment: format the UTC guess in the zone and compare
  const seen = new Date(new Date(asUtc).toLocaleString("en-US", { timeZone })).getTime();
  const guessAsLocal = new Date(new Date(asUtc).toLocaleString("en-US", { timeZone: "UTC" })).getTime();
  return asUtc - (seen - guessAsLocal);
}
