/* The card pages' shared date helper. The staff session and API client are the shared module
   /static/web/staff.js (StaffSession), loaded before this file. */
"use strict";

/** The dates printed on a card. ``stay_until`` ("2026-12-31") is the last day of the stay, a Thai
    date: it is shown exactly as printed (31/12/2026), never through a Date object and this PC's
    time zone (an expires_at timestamp shown in Bangkok reads as the next day). */
const CardDates = (() => {
  function printed(isoDate) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate || "");
    return match ? `${match[3]}/${match[2]}/${match[1]}` : "—";
  }
  return {printed};
})();
