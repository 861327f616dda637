/** Every page of the back office: its hash path, its navigation title, its component. */
import type { ComponentType } from "preact";
import type { Route } from "../router";
import { AuditLog } from "./audit-log";
import { Dashboard } from "./dashboard";
import { DeadLetters } from "./dead-letters";
import { Payouts } from "./payouts";
import { Recordings } from "./recordings";
import { Sessions } from "./sessions";
import { Tutors } from "./tutors";
import { Users } from "./users";
import { Webhooks } from "./webhooks";

export interface PageDef {
  path: string;
  title: string;
  /** Shown in the navigation (detail pages are reached from their lists). */
  nav: boolean;
  component: ComponentType<{ route: Route }>;
}

export const pages: PageDef[] = [
  { path: "", title: "Dashboard", nav: true, component: Dashboard },
  { path: "users", title: "Users", nav: true, component: Users },
  { path: "tutors", title: "Tutors", nav: true, component: Tutors },
  { path: "sessions", title: "Sessions", nav: true, component: Sessions },
  { path: "recordings", title: "Recordings", nav: true, component: Recordings },
  { path: "payouts", title: "Payouts", nav: true, component: Payouts },
  { path: "webhooks", title: "Webhooks", nav: true, component: Webhooks },
  { path: "dead-letters", title: "Dead letters", nav: true, component: DeadLetters },
  { path: "audit-log", title: "Audit log", nav: true, component: AuditLog },
];
