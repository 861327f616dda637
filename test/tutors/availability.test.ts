/** Unit tests of the pure availability math (time zones, DST, joining, slot starts). */
import { describe, expect, it } from "vitest";
import {
  availabilityWindows,
  bookableStarts,
  formatClock,
  type Interval,
  isValidTimeZone,
  isWithinAvailability,
  isWithinWindows,
  mergeIntervals,
  parseClock,
  subtractIntervals,
  type WeeklyRange,
  weeklyProblems,
  zoneOffsetMs,
} from "../../src/modules/tutors/availability";
import { DAY, HOUR, MIN, utc } from "./fixtures";

const range = (weekday: number, start: string, end: string): WeeklyRange => ({
  weekday,
  start: parseClock(start) ?? Number.NaN,
  end: parseClock(end) ?? Number.NaN,
});

const iso = (windows: Interval[]) =>
  windows.map(([s, e]) => [new Date(s).toISOString().slice(0, 16), new Date(e).toISOString().slice(0, 16)]);

describe("clock parsing", () => {
  it("parses HH:MM including 24:00 and rejects the rest", () => {
    expect(parseClock("00:00")).toBe(0);
    expect(parseClock("09:30")).toBe(570);
    expect(parseClock("23:59")).toBe(1439);
    expect(parseClock("24:00")).toBe(1440);
    for (const bad of ["24:01", "25:00", "9:00", "09:60", "0900", "", "09:00:00", " 09:00"]) {
      expect(parseClock(bad), bad).toBeNull();
    }
    expect(formatClock(0)).toBe("00:00");
    expect(formatClock(570)).toBe("09:30");
    expect(formatClock(1440)).toBe("24:00");
  });
});

describe("time zones", () => {
  it("knows IANA names and rejects unknown or non-IANA ones", () => {
    for (const tz of ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "Etc/GMT+5"]) {
      expect(isValidTimeZone(tz), tz).toBe(true);
    }
    for (const tz of ["Mars/Olympus_Mons", "", "+05:30", "America/New York", "Europe/../Paris", "x".repeat(80)]) {
      expect(isValidTimeZone(tz), tz).toBe(false);
    }
  });

  it("computes offsets across DST and for half-hour zones", () => {
    expect(zoneOffsetMs("America/New_York", utc("2026-01-05T14:00"))).toBe(-5 * HOUR);
    expect(zoneOffsetMs("America/New_York", utc("2026-07-06T13:00"))).toBe(-4 * HOUR);
    expect(zoneOffsetMs("Asia/Kolkata", utc("2026-01-05T00:00"))).toBe(5.5 * HOUR);
    expect(zoneOffsetMs("Australia/Sydney", utc("2026-01-05T00:00"))).toBe(11 * HOUR);
    expect(zoneOffsetMs("Australia/Sydney", utc("2026-07-06T00:00"))).toBe(10 * HOUR);
    expect(zoneOffsetMs("UTC", 123_456_789)).toBe(0);
  });
});

describe("availabilityWindows", () => {
  const mondayNineToFive = [range(1, "09:00", "17:00")];

  it("maps UTC ranges directly and clips to the requested span", () => {
    const from = utc("2026-01-05T00:00"); // a Monday
    expect(iso(availabilityWindows(mondayNineToFive, "UTC", from, from + 14 * DAY))).toEqual([
      ["2026-01-05T09:00", "2026-01-05T17:00"],
      ["2026-01-12T09:00", "2026-01-12T17:00"],
    ]);
    expect(iso(availabilityWindows(mondayNineToFive, "UTC", utc("2026-01-05T10:00"), utc("2026-01-05T12:00")))).toEqual(
      [["2026-01-05T10:00", "2026-01-05T12:00"]],
    );
    expect(availabilityWindows(mondayNineToFive, "UTC", from, from)).toEqual([]);
    expect(availabilityWindows([], "UTC", from, from + DAY)).toEqual([]);
  });

  it("is DST-correct in America/New_York: 09:00 is 14:00Z in January and 13:00Z in July", () => {
    const jan = availabilityWindows(
      mondayNineToFive,
      "America/New_York",
      utc("2026-01-05T00:00"),
      utc("2026-01-06T00:00"),
    );
    expect(iso(jan)).toEqual([["2026-01-05T14:00", "2026-01-05T22:00"]]);
    const jul = availabilityWindows(
      mondayNineToFive,
      "America/New_York",
      utc("2026-07-06T00:00"),
      utc("2026-07-07T00:00"),
    );
    expect(iso(jul)).toEqual([["2026-07-06T13:00", "2026-07-06T21:00"]]);
  });

  it("handles the spring-forward week: offsets switch mid-week and the skipped hour is not available", () => {
    const from = utc("2026-03-07T00:00"); // Saturday before the change (Sunday 2026-03-08 02:00 → 03:00)
    const to = utc("2026-03-10T00:00");
    const weekly = [range(6, "09:00", "10:00"), range(0, "01:00", "04:00"), range(1, "09:00", "10:00")];
    expect(iso(availabilityWindows(weekly, "America/New_York", from, to))).toEqual([
      ["2026-03-07T14:00", "2026-03-07T15:00"], // Saturday, EST
      ["2026-03-08T06:00", "2026-03-08T08:00"], // 01:00 EST → 04:00 EDT: only two real hours
      ["2026-03-09T13:00", "2026-03-09T14:00"], // Monday, EDT
    ]);
    // A range entirely inside the gap does not exist; one starting in it begins when the clock jumps.
    expect(availabilityWindows([range(0, "02:00", "02:45")], "America/New_York", from, to)).toEqual([]);
    expect(iso(availabilityWindows([range(0, "02:30", "04:00")], "America/New_York", from, to))).toEqual([
      ["2026-03-08T07:00", "2026-03-08T08:00"],
    ]);
  });

  it("handles the fall-back overlap: a repeated local hour is available both times", () => {
    const from = utc("2026-11-01T00:00");
    const to = utc("2026-11-02T00:00");
    expect(iso(availabilityWindows([range(0, "01:00", "01:30")], "America/New_York", from, to))).toEqual([
      ["2026-11-01T05:00", "2026-11-01T05:30"], // 01:00 EDT
      ["2026-11-01T06:00", "2026-11-01T06:30"], // 01:00 EST
    ]);
    expect(iso(availabilityWindows([range(0, "00:00", "03:00")], "America/New_York", from, to))).toEqual([
      ["2026-11-01T04:00", "2026-11-01T08:00"], // four real hours
    ]);
  });

  it("sees a DST change in the last few hours of a short span (the booking check of one session)", () => {
    // 00:00–02:00 on the fall-back Sunday is 04:00Z–07:00Z (01:00–02:00 happens twice); a session
    // 01:45 EDT → 01:45 EST (05:45Z–06:45Z) lies inside it. Found by the slots/booking property test.
    const weekly = [range(0, "00:00", "02:00")];
    const [s, e] = [utc("2031-11-02T05:45"), utc("2031-11-02T06:45")];
    expect(iso(availabilityWindows(weekly, "America/New_York", s, e))).toEqual([
      ["2031-11-02T05:45", "2031-11-02T06:45"],
    ]);
    expect(isWithinAvailability(weekly, "America/New_York", s, e)).toBe(true);
    expect(isWithinAvailability(weekly, "America/New_York", s, e + 15 * MIN)).toBe(true); // ends 02:00 EST
    expect(isWithinAvailability(weekly, "America/New_York", s, e + 30 * MIN)).toBe(false);
  });

  it("covers the whole span for all-week availability across a DST change", () => {
    const weekly = [0, 1, 2, 3, 4, 5, 6].map((d) => range(d, "00:00", "24:00"));
    const from = utc("2026-03-01T03:17");
    const to = utc("2026-03-20T11:00");
    expect(availabilityWindows(weekly, "America/New_York", from, to)).toEqual([[from, to]]);
    expect(availabilityWindows(weekly, "Australia/Sydney", utc("2026-04-01T00:00"), utc("2026-04-10T00:00"))).toEqual([
      [utc("2026-04-01T00:00"), utc("2026-04-10T00:00")],
    ]);
  });

  it("uses half-hour offsets (Asia/Kolkata +05:30)", () => {
    const windows = availabilityWindows(
      mondayNineToFive,
      "Asia/Kolkata",
      utc("2026-01-05T00:00"),
      utc("2026-01-06T00:00"),
    );
    expect(iso(windows)).toEqual([["2026-01-05T03:30", "2026-01-05T11:30"]]);
  });

  it("maps a Sydney Monday morning onto the UTC Sunday, with southern-hemisphere DST", () => {
    const weekly = [range(1, "09:00", "10:00")];
    const jan = availabilityWindows(weekly, "Australia/Sydney", utc("2026-01-03T00:00"), utc("2026-01-06T00:00"));
    expect(iso(jan)).toEqual([["2026-01-04T22:00", "2026-01-04T23:00"]]); // AEDT +11
    const jul = availabilityWindows(weekly, "Australia/Sydney", utc("2026-07-04T00:00"), utc("2026-07-07T00:00"));
    expect(iso(jul)).toEqual([["2026-07-05T23:00", "2026-07-06T00:00"]]); // AEST +10
  });

  it("joins ranges that touch, including 24:00 and the next day's 00:00", () => {
    const weekly = [
      range(1, "20:00", "24:00"),
      range(2, "00:00", "02:00"),
      range(2, "09:00", "10:00"),
      range(2, "10:00", "11:00"),
    ];
    const windows = availabilityWindows(weekly, "America/New_York", utc("2026-01-05T00:00"), utc("2026-01-07T00:00"));
    expect(iso(windows)).toEqual([
      ["2026-01-06T01:00", "2026-01-06T07:00"], // Mon 20:00 → Tue 02:00 EST, one window
      ["2026-01-06T14:00", "2026-01-06T16:00"], // Tue 09:00 → 11:00
    ]);
    // Saturday 24:00 joins Sunday 00:00 across the week boundary.
    const wrap = availabilityWindows(
      [range(6, "23:00", "24:00"), range(0, "00:00", "01:00")],
      "UTC",
      utc("2026-01-03T00:00"),
      utc("2026-01-05T00:00"),
    );
    expect(iso(wrap)).toEqual([["2026-01-03T23:00", "2026-01-04T01:00"]]);
  });
});

describe("interval helpers", () => {
  it("merges, subtracts and checks containment", () => {
    expect(
      mergeIntervals([
        [5, 7],
        [1, 3],
        [3, 4],
        [6, 9],
        [10, 10],
      ]),
    ).toEqual([
      [1, 4],
      [5, 9],
    ]);
    expect(
      subtractIntervals(
        [
          [0, 10],
          [20, 30],
        ],
        [
          [2, 3],
          [8, 22],
          [25, 26],
        ],
      ),
    ).toEqual([
      [0, 2],
      [3, 8],
      [22, 25],
      [26, 30],
    ]);
    expect(
      subtractIntervals(
        [[0, 10]],
        [
          [-5, 0],
          [10, 15],
        ],
      ),
    ).toEqual([[0, 10]]);
    expect(subtractIntervals([[0, 10]], [[0, 10]])).toEqual([]);
    expect(
      isWithinWindows(
        [
          [0, 5],
          [5, 10],
        ],
        2,
        8,
      ),
    ).toBe(true);
    expect(
      isWithinWindows(
        [
          [0, 5],
          [6, 10],
        ],
        2,
        8,
      ),
    ).toBe(false);
  });

  it("checks a booking against availability (for POST /v1/sessions)", () => {
    const weekly = [range(1, "09:00", "17:00"), range(1, "17:00", "18:00")];
    const tz = "America/New_York";
    expect(isWithinAvailability(weekly, tz, utc("2026-07-06T13:00"), utc("2026-07-06T14:00"))).toBe(true);
    expect(isWithinAvailability(weekly, tz, utc("2026-07-06T20:30"), utc("2026-07-06T21:30"))).toBe(true); // spans the join
    expect(isWithinAvailability(weekly, tz, utc("2026-07-06T12:45"), utc("2026-07-06T13:45"))).toBe(false);
    expect(isWithinAvailability(weekly, tz, utc("2026-07-06T21:30"), utc("2026-07-06T22:30"))).toBe(false);
    expect(isWithinAvailability(weekly, tz, utc("2026-07-06T13:00"), utc("2026-07-06T13:00"))).toBe(false);
  });
});

describe("bookableStarts", () => {
  const day = utc("2031-01-06T00:00");

  it("returns 15-minute epoch-aligned starts whose whole slot fits", () => {
    const windows: Interval[] = [[day + 9 * HOUR + 5 * MIN, day + 11 * HOUR]];
    const starts = bookableStarts(windows, [], 60 * MIN, 0);
    expect(starts.map((s) => new Date(s).toISOString().slice(11, 16))).toEqual(["09:15", "09:30", "09:45", "10:00"]);
    expect(starts.every((s) => s % (15 * MIN) === 0)).toBe(true);
    expect(bookableStarts([[day, day + 30 * MIN]], [], 60 * MIN, 0)).toEqual([]);
  });

  it("aligns to the epoch, not to the local hour (Asia/Kathmandu +05:45)", () => {
    const windows = availabilityWindows([range(1, "09:00", "10:00")], "Asia/Kathmandu", day, day + DAY);
    expect(iso(windows)).toEqual([["2031-01-06T03:15", "2031-01-06T04:15"]]);
    expect(bookableStarts(windows, [], 30 * MIN, 0).map((s) => new Date(s).toISOString().slice(11, 16))).toEqual([
      "03:15",
      "03:30",
      "03:45",
    ]);
  });

  it("starts no earlier than the earliest instant (minimum notice), rounded up to the step", () => {
    const windows: Interval[] = [[day + 9 * HOUR, day + 12 * HOUR]];
    const starts = bookableStarts(windows, [], 60 * MIN, day + 9 * HOUR + 50 * MIN);
    expect(starts[0]).toBe(day + 10 * HOUR);
    expect(starts.at(-1)).toBe(day + 11 * HOUR);
  });

  it("excludes slots overlapping busy intervals but allows touching ones", () => {
    const windows: Interval[] = [[day + 9 * HOUR, day + 13 * HOUR]];
    const busy: Interval[] = [[day + 10 * HOUR, day + 11 * HOUR]];
    const starts = bookableStarts(windows, busy, 60 * MIN, 0).map((s) => new Date(s).toISOString().slice(11, 16));
    expect(starts).toEqual(["09:00", "11:00", "11:15", "11:30", "11:45", "12:00"]);
  });

  it("lets a slot span a 24:00 / 00:00 join", () => {
    const windows = availabilityWindows(
      [range(1, "22:00", "24:00"), range(2, "00:00", "01:00")],
      "UTC",
      day,
      day + 2 * DAY,
    );
    const starts = bookableStarts(windows, [], 180 * MIN, 0);
    expect(starts).toEqual([day + 22 * HOUR]);
  });
});

describe("weeklyProblems", () => {
  it("accepts disjoint and touching ranges", () => {
    expect(
      weeklyProblems([range(1, "09:00", "10:00"), range(1, "10:00", "11:00"), range(2, "09:30", "24:00")]),
    ).toEqual([]);
  });

  it("reports inverted and empty ranges at their end", () => {
    expect(weeklyProblems([range(1, "10:00", "09:00"), range(2, "10:00", "10:00")])).toEqual([
      { path: "weekly.0.end", message: "end must be after start" },
      { path: "weekly.1.end", message: "end must be after start" },
    ]);
  });

  it("reports overlaps on the same weekday, including a range nested in an earlier long one", () => {
    const problems = weeklyProblems([
      range(3, "08:00", "18:00"),
      range(3, "09:00", "10:00"),
      range(3, "12:00", "13:00"),
      range(4, "12:00", "13:00"),
    ]);
    expect(problems).toEqual([
      { path: "weekly.1", message: "overlaps weekly.0" },
      { path: "weekly.2", message: "overlaps weekly.0" },
    ]);
  });
});
