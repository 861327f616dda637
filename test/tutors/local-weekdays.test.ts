/**
 * Booking reads only the availability of the weekdays its interval can fall on (localWeekdays):
 * whatever the tutor's time zone, the local weekday of every instant of the interval is in the set.
 */
import { describe, expect, it } from "vitest";
import { localWeekdays } from "../../src/modules/tutors/tutor-calendar";

const zones = [
  "UTC",
  "Pacific/Kiritimati", // UTC+14
  "Etc/GMT+12", // UTC−12
  "Pacific/Pago_Pago",
  "Asia/Kathmandu",
  "America/St_Johns",
  "Australia/Lord_Howe",
  "Europe/Berlin",
  "America/Los_Angeles",
];
const names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const weekdayIn = (zone: string, at: number) =>
  names.indexOf(new Intl.DateTimeFormat("en-US", { timeZone: zone, weekday: "short" }).format(at));

describe("localWeekdays", () => {
  it("covers the local weekday of every instant of the interval in every time zone", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 400; i++) {
      const from = Date.UTC(2026, 0, 1) + Math.floor(random() * 365 * 86_400_000);
      const to = from + 15 * 60_000 * (1 + Math.floor(random() * 16));
      const days = localWeekdays(from, to);
      expect(days, "a lesson never needs the whole week").toBeDefined();
      expect((days ?? []).length).toBeLessThanOrEqual(3);
      for (const zone of zones) {
        for (const at of [from, to - 1, (from + to) / 2]) {
          expect(days, `${new Date(from).toISOString()} in ${zone}`).toContain(weekdayIn(zone, at));
        }
      }
    }
  });

  it("reads the whole week for a window of a week or more", () => {
    const from = Date.UTC(2026, 5, 1);
    expect(localWeekdays(from, from + 7 * 86_400_000)).toBeUndefined();
    expect(localWeekdays(from, from + 5 * 86_400_000)).toBeUndefined();
  });
});
