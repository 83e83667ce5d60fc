// Print every event of an .ics file as JSON, parsed by Mozilla's ical.js (Thunderbird's
// parser): uid, sequence, status, summary and start/end converted to UTC by ical.js itself,
// using the VTIMEZONE definitions the file carries (as a calendar app without its own
// copy of the zone database would); each alarm with its action, description and the UTC
// moment it goes off (its absolute trigger, or the start plus its relative one).
//   node ics_starts.mjs FILE.ics  ->  [{"uid": ..., "start_utc": "2026-10-25T09:00:00Z", ...}]
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const calendar = new ICAL.Component(ICAL.parse(readFileSync(process.argv[2], "utf8")));
for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
}

const utc = (time) => time.convertToZone(ICAL.Timezone.utcTimezone).toString().replace(/(\.\d+)?$/, "");

const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue("status"),
    summary: event.summary,
    tzid: vevent.getFirstProperty("dtstart").getParameter("tzid") ?? null,
    start_utc: utc(event.startDate),
    end_utc: utc(event.endDate),
    alarms: vevent.getAllSubcomponents("valarm").map((valarm) => {
      const trigger = valarm.getFirstPropertyValue("trigger");
      let moment = trigger;  // an absolute trigger is a time, a relative one a duration
      if (trigger instanceof ICAL.Duration) {
        moment = event.startDate.clone();
        moment.addDuration(trigger);
      }
      return {
        action: valarm.getFirstPropertyValue("action"),
        description: valarm.getFirstPropertyValue("description"),
        at_utc: utc(moment),
      };
    }),
  };
});
process.stdout.write(JSON.stringify(events));
