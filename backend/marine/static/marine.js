/* The boat operator's page: sign in, register a trip, scan passengers aboard at the pier (camera,
   photo, pasted code, or card id + passport number), depart, scan them ashore, return, and see who
   is missing. Every data call is an ordinary authorized API call (/api/v1/marine/…). Text from the
   data is only ever set with textContent. */
(function () {
  "use strict";

  const STORE = "pts.marine";
  const REFRESH_MS = 30000;
  const $ = (id) => document.getElementById(id);

  const TRIP_STATUS = {
    planned: ["At the pier (boarding)", "อยู่ที่ท่า (กำลังขึ้นเรือ)"],
    at_sea: ["At sea", "อยู่ในทะเล"],
    returned: ["Returned", "กลับถึงท่าแล้ว"],
    cancelled: ["Cancelled", "ยกเลิก"],
  };
  const PIERS = { RASSADA: "Rassada pier · ท่าเรือรัษฎา", AO_CHALONG: "Chalong pier · ท่าเรืออ่าวฉลอง",
                  AO_PO: "Ao Po Grand Marina · ท่าเรืออ่าวปอ" };
  const REFUSAL_TH = {
    malformed: "ไม่ใช่รหัสบัตรนักท่องเที่ยวอัจฉริยะ",
    wrong_type: "รหัสนี้ไม่ใช่บัตรนักท่องเที่ยวอัจฉริยะ",
    bad_algorithm: "ลายเซ็นของบัตรไม่ใช่แบบของระบบ บัตรอาจถูกปลอมแปลง",
    bad_signature: "ลายเซ็นดิจิทัลของบัตรไม่ถูกต้อง บัตรอาจถูกปลอมแปลงหรือแก้ไข",
    unknown_key: "บัตรไม่ได้ลงนามด้วยกุญแจของระบบบัตรนักท่องเที่ยว",
    wrong_issuer: "บัตรไม่ได้ออกโดยระบบบัตรนักท่องเที่ยวภูเก็ต",
    unknown_card: "ไม่พบบัตรนี้ในระบบ",
    expired: "บัตรหมดอายุแล้ว",
    revoked: "บัตรถูกเพิกถอนแล้ว",
    closed: "บัตรถูกปิดแล้ว ผู้ถือบัตรเดินทางออกจากภูเก็ตแล้ว",
    card_mismatch: "หมายเลขบัตรไม่ตรงกับบัตรที่สแกน",
    passport_mismatch: "หมายเลขบัตรกับเลขหนังสือเดินทางไม่ตรงกัน",
    capacity: "เรือเต็มแล้ว รับผู้โดยสารเพิ่มไม่ได้",
  };

  const state = { token: null, role: null, username: null, trips: [], tripId: null, trip: null, timer: null };

  // --- session: the shared staff session and API client (/static/web/staff.js) ------------------
  const session = StaffSession.open(STORE, { onExpired: (message) => signOut(message) });
  function load() {
    const grant = session.grant() || {};
    state.token = grant.token || null;
    state.role = grant.role || null;
    state.username = grant.username || null;
  }
  function save() { if (!state.token) session.signOut(); }
  let signin = null;  // the shared sign-in form (StaffSession.signInForm), wired once the page has loaded
  function signOut(message) { signin.signOut(message); }  // ends the session; `message` says why under the form
  function signedOut() {
    stopCamera();
    clearInterval(state.timer);
    Object.assign(state, { token: null, role: null, username: null, trips: [], tripId: null, trip: null });
    save();
    closeTrip();  // nothing of this account's trips stays in the page for the next one
    $("trip-list").replaceChildren();
    $("trip-form-card").hidden = true;
    $("trip-form").reset();
    show(false);
  }

  const api = (method, path, body) => session.api(method, path, body);

  // --- helpers -------------------------------------------------------------------------
  const { el, bilingual } = StaffSession;  // the staff pages' element builder (/static/web/staff.js)
  function clock(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  }
  // card ids are printed in groups of three (7KQ-4M2-ZH9)
  function cardId(id) { return id && id.length === 9 ? id.slice(0, 3) + "-" + id.slice(3, 6) + "-" + id.slice(6) : id; }
  function pierName(pier) { return PIERS[pier] || pier; }
  function localInput(date) {  // a Date as the value of <input type="datetime-local"> (local time)
    const pad = (n) => String(n).padStart(2, "0");
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" +
      pad(date.getHours()) + ":" + pad(date.getMinutes());
  }
  const fieldErrors = (err) => err.detail;  // "message — field: problem; …" (StaffSession.ApiError)


  // --- views ---------------------------------------------------------------------------
  function show(signedIn) {
    $("signin").hidden = signedIn;
    $("app").hidden = !signedIn;
    $("who").hidden = !signedIn;
    if (state.username) $("who-name").textContent = state.username + (state.role === "admin" ? " (admin)" : "");
    $("operator-field").hidden = state.role !== "admin";
    $("t-operator").required = state.role === "admin";
  }

  async function signedIn() {
    load();
    await start();
  }

  async function start() {
    if (!state.token) { show(false); return; }
    show(true);
    await refreshTrips();
    clearInterval(state.timer);
    state.timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  }

  // A manifest read is personal data and audited: the open trip is read again only when the list
  // shows it changed (status, heads, position), not on every 30 s tick.
  function signature(t) {
    return t ? [t.status, t.passengers_aboard, t.passengers_ashore,
                t.last_position ? t.last_position.recorded_at : null].join("|") : "";
  }

  async function refresh(options) {
    await refreshTrips();
    if (!state.tripId) return;
    const listed = state.trips.find((t) => t.id === state.tripId);
    if ((options && options.force) || !listed || signature(listed) !== signature(state.trip)) {
      await openTrip(state.tripId, { keepMessages: true });
    }
  }

  // --- the trip list -------------------------------------------------------------------
  async function refreshTrips() {
    try {
      const { data } = await api("GET", "/api/v1/marine/trips");
      state.trips = data.items || [];
      renderTrips();
      $("updated").textContent = "Updated " + new Date().toLocaleTimeString() + " · อัปเดต";
    } catch (err) {
      if (err.status !== 401) $("updated").textContent = "Not updated: " + err.message;
    }
  }

  function renderTrips() {
    const order = { at_sea: 0, planned: 1, returned: 2, cancelled: 3 };
    const trips = state.trips.slice().sort((a, b) => (order[a.status] ?? 9) - (order[b.status] ?? 9) ||
      String(b.departs_at).localeCompare(String(a.departs_at)));
    $("trip-list").replaceChildren(...trips.map((t) => {
      const button = el("button", { type: "button", class: "trip-item status-" + t.status, "data-trip-id": String(t.id) },
        el("strong", { text: t.vessel_name }),
        el("span", { class: "muted", text: pierName(t.pier) + " → " + t.destination }),
        el("span", { class: "muted", text: clock(t.departs_at) + " – " + clock(t.returns_by) }),
        el("span", { class: "heads" }, bilingual(["Aboard " + t.passengers_aboard + (t.status !== "planned"
          ? " · ashore " + t.passengers_ashore : ""), "บนเรือ " + t.passengers_aboard +
          (t.status !== "planned" ? " · ขึ้นฝั่ง " + t.passengers_ashore : "")])),
        el("span", { class: "badge status-" + t.status }, bilingual(TRIP_STATUS[t.status] || [t.status, t.status])));
      if (t.id === state.tripId) button.classList.add("selected");
      button.addEventListener("click", () => openTrip(t.id));
      return el("li", {}, button);
    }));
    $("no-trips").hidden = state.trips.length > 0;
  }

  // --- creating a trip -----------------------------------------------------------------
  function openTripForm() {
    const now = new Date();
    $("t-departs").value = localInput(now);
    $("t-returns").value = localInput(new Date(now.getTime() + 6 * 3600 * 1000));
    $("trip-error").hidden = true;
    $("trip-form-card").hidden = false;
    $("t-vessel").focus();
  }

  async function createTrip(event) {
    event.preventDefault();
    $("trip-error").hidden = true;
    const departs = new Date($("t-departs").value);
    const returns = new Date($("t-returns").value);
    if (isNaN(departs) || isNaN(returns)) {
      $("trip-error").textContent = "Enter the departure and return times. / กรุณาระบุเวลา";
      $("trip-error").hidden = false;
      return;
    }
    const body = {
      vessel_name: $("t-vessel").value.trim(), vessel_registration: $("t-registration").value.trim(),
      pier: $("t-pier").value.trim(), destination: $("t-destination").value.trim(),
      departs_at: departs.toISOString(), returns_by: returns.toISOString(),
    };
    if ($("t-capacity").value) body.capacity = Number($("t-capacity").value);
    if ($("t-crew-phone").value.trim()) body.crew_phone = $("t-crew-phone").value.trim();
    if (state.role === "admin") body.operator_id = Number($("t-operator").value);
    $("trip-create").disabled = true;
    try {
      const { data } = await api("POST", "/api/v1/marine/trips", body);
      $("trip-form").reset();
      $("trip-form-card").hidden = true;
      await refreshTrips();
      await openTrip(data.id);
    } catch (err) {
      if (err.status !== 401) {
        $("trip-error").textContent = fieldErrors(err);
        $("trip-error").hidden = false;
      }
    } finally {
      $("trip-create").disabled = false;
    }
  }

  // --- one trip ------------------------------------------------------------------------
  function clearMessages() {
    $("refused").hidden = true;
    $("scan-ok").hidden = true;
    $("hold").hidden = true;
    $("trip-message").hidden = true;
    scanMessage("");
  }

  async function openTrip(id, options) {
    if (!(options && options.keepMessages) && id !== state.tripId) { clearMessages(); stopCamera(); }
    try {
      const { data } = await api("GET", "/api/v1/marine/trips/" + id);
      state.tripId = id;
      state.trip = data;
      renderTrip();
      renderTrips();
    } catch (err) {
      if (err.status !== 401) tripMessage(err.message);
    }
  }

  function closeTrip() {
    clearMessages();
    $("trip").hidden = true;
    $("trip-title").textContent = "";
    $("trip-facts").replaceChildren();
    $("passenger-rows").replaceChildren();
    $("missing").hidden = true;
    $("card-token").value = "";
    $("card-id").value = "";
    $("passport").value = "";
    $("override-reason").value = "";
  }

  function tripMessage(text) { $("trip-message").textContent = text; $("trip-message").hidden = !text; }

  function renderTrip() {
    const t = state.trip;
    $("trip").hidden = false;
    $("trip").dataset.status = t.status;
    $("trip-title").textContent = t.vessel_name + " · " + pierName(t.pier) + " → " + t.destination;
    $("trip-status").className = "badge status-" + t.status;
    $("trip-status").replaceChildren(bilingual(TRIP_STATUS[t.status] || [t.status, t.status]));
    const facts = [
      [["Registration", "ทะเบียนเรือ"], t.vessel_registration],
      [["Operator", "ผู้ประกอบการ"], t.operator ? t.operator.name : null],
      [["Departs", "ออกเรือ"], clock(t.departs_at)],
      [["Back by", "กลับภายใน"], clock(t.returns_by)],
      [["Capacity", "ความจุ"], t.capacity ?? null],
      [["Crew phone", "โทรศัพท์ลูกเรือ"], t.crew_phone || null],
      [["Last position", "ตำแหน่งล่าสุด"], t.last_position
        ? t.last_position.lat.toFixed(4) + ", " + t.last_position.lon.toFixed(4) + " · " + clock(t.last_position.recorded_at) : null],
    ];
    $("trip-facts").replaceChildren(...facts.flatMap(([label, value]) =>
      [el("dt", {}, bilingual(label)), el("dd", { text: value === null || value === undefined ? "—" : String(value) })]));

    const passengers = t.passengers || [];
    const ashore = passengers.filter((p) => p.ashore_at).length;
    const missing = t.status === "returned" ? passengers.filter((p) => !p.ashore_at) : [];
    $("trip-counts").replaceChildren(
      el("li", { class: "count", "data-count": "aboard" }, el("strong", { text: String(passengers.length) }), " ",
        bilingual(["aboard", "ขึ้นเรือ"])),
      el("li", { class: "count", "data-count": "ashore" }, el("strong", { text: String(ashore) }), " ",
        bilingual(["ashore", "ขึ้นฝั่ง"])),
      el("li", { class: "count" + (missing.length ? " missing" : ""), "data-count": "missing" },
        el("strong", { text: String(missing.length) }), " ", bilingual(["missing", "สูญหาย/ยังไม่ขึ้นฝั่ง"])));

    const boarding = t.status === "planned";
    const landing = t.status === "at_sea" || t.status === "returned";
    $("scan").hidden = !(boarding || landing);
    $("scan").dataset.mode = boarding ? "board" : "ashore";
    $("scan-title").replaceChildren(boarding
      ? bilingual(["Board passengers: scan each card at the pier", "สแกนบัตรผู้โดยสารที่ท่าเรือ"])
      : bilingual(["Passengers ashore: scan each card as they step off", "สแกนบัตรผู้โดยสารเมื่อขึ้นฝั่ง"]));
    $("passport-field").hidden = !boarding;
    $("passport").required = boarding;
    $("depart").hidden = !boarding;
    $("return").hidden = t.status !== "at_sea";

    const alert = $("alert");
    if (t.status === "at_sea" && t.returns_by && new Date(t.returns_by) < new Date()) {
      alert.replaceChildren(bilingual(["⚠ This boat is past its return time. The 191 center is watching it.",
        "เรือลำนี้เกินเวลากลับแล้ว ศูนย์ 191 กำลังติดตาม"]));
      alert.hidden = false;
    } else {
      alert.hidden = true;
    }

    const banner = $("missing");
    if (missing.length) {
      banner.replaceChildren(el("strong", { text: "⚠ " + missing.length + " not scanned ashore: " }),
        missing.map((p) => p.full_name).join(", "),
        el("span", { class: "th", lang: "th", text: " — ผู้โดยสารยังไม่ได้สแกนขึ้นฝั่ง ศูนย์ 191 ได้รับแจ้งแล้ว" }));
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }

    $("passenger-rows").replaceChildren(...passengers.map((p) => passengerRow(p, t)));
    $("manifest").hidden = passengers.length === 0;
    $("no-passengers").hidden = passengers.length > 0;
  }

  function passengerRow(p, trip) {
    const isMissing = trip.status === "returned" && !p.ashore_at;
    let action = null;
    if ((trip.status === "at_sea" || trip.status === "returned") && !p.ashore_at) {
      action = el("button", { type: "button", class: "ashore", text: "Ashore / ขึ้นฝั่ง" });
      action.addEventListener("click", () => scanAshore(p.card_id, action));
    }
    const ashoreCell = p.ashore_at ? clock(p.ashore_at) : isMissing ? "MISSING · ไม่พบ" : "—";
    return el("tr", { class: "passenger" + (isMissing ? " missing" : "") + (p.ashore_at ? " landed" : ""),
                      "data-card-id": p.card_id },
      el("td", {}, el("div", { class: "name", text: p.full_name }),
        el("div", { class: "muted", text: p.nationality + " · " + cardId(p.card_id) }),
        p.phone ? el("a", { class: "muted", href: "tel:" + p.phone.replace(/[^0-9+]/g, ""), text: p.phone }) : null),
      el("td", { text: clock(p.boarded_at) }),
      el("td", { class: "ashore-at", text: ashoreCell }),
      el("td", {}, action));
  }

  // --- scans: boarding and ashore -------------------------------------------------------
  function showRefusal(reason, message) {
    $("scan-ok").hidden = true;
    $("refused").hidden = false;
    $("refused").dataset.reason = reason || "";
    $("refusal-en").textContent = message || "The card is not valid.";
    $("refusal-th").textContent = REFUSAL_TH[reason] || "บัตรไม่ถูกต้อง";
  }
  function scanOk(text) {
    $("refused").hidden = true;
    $("scan-ok").textContent = text;
    $("scan-ok").hidden = false;
  }

  function tokenSubject(token) {  // the card id (sub) of a card token: the claims are readable by anyone
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const binary = atob(part + "===".slice((part.length + 3) % 4));
      const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
      return typeof claims.sub === "string" ? claims.sub : null;
    } catch (err) { return null; }
  }

  async function board(body) {
    const t = state.trip;
    if (!t) return false;
    try {
      const { status, data } = await api("POST", "/api/v1/marine/trips/" + t.id + "/passengers", body);
      scanOk((status === 201 ? "Aboard: " : "Already aboard: ") + data.full_name + " (" + data.nationality + ")" +
        (status === 201 ? " / ขึ้นเรือแล้ว" : " / อยู่บนเรือแล้ว"));
      return true;
    } catch (err) {
      if (err.status === 422 && err.body && err.body.reason) showRefusal(err.body.reason, err.body.message);
      else if (err.status === 409) showRefusal("capacity", err.message);
      else if (err.status === 422) showRefusal("malformed", fieldErrors(err));
      else if (err.status !== 401) showRefusal(null, err.message);
      return false;
    } finally {
      await openTrip(t.id, { keepMessages: true });
      refreshTrips();
    }
  }

  async function scanAshore(id, button) {
    const t = state.trip;
    if (!t) return false;
    if (button) button.disabled = true;
    try {
      await api("POST", "/api/v1/marine/trips/" + t.id + "/passengers/" + encodeURIComponent(id) + "/ashore");
      const p = (t.passengers || []).find((x) => x.card_id === id);
      scanOk("Ashore: " + (p ? p.full_name : cardId(id)) + " / ขึ้นฝั่งแล้ว");
      return true;
    } catch (err) {
      if (err.status === 404) showRefusal("unknown_card", "This card is not on this trip's manifest. / ไม่มีบัตรนี้ในรายชื่อผู้โดยสาร");
      else if (err.status === 422 && err.body && err.body.reason) showRefusal(err.body.reason, err.body.message);
      else if (err.status !== 401) showRefusal(null, err.message);
      return false;
    } finally {
      await openTrip(t.id, { keepMessages: true });
      refreshTrips();
    }
  }

  async function onToken(event) {
    if (event) event.preventDefault();
    const token = $("card-token").value.trim();
    if (!token) { scanMessage("Scan, upload or paste the card's code first. / กรุณาสแกนหรือวางรหัสบัตร"); return; }
    $("token-button").disabled = true;
    try {
      let done;
      if ($("scan").dataset.mode === "board") {
        done = await board({ card_token: token });
      } else {
        const id = tokenSubject(token);
        if (!id) { showRefusal("malformed", "This is not a Smart Tourist Card code."); return; }
        done = await scanAshore(id);
      }
      // clear the field only if it still holds this code: the crew may already have pasted the next one
      if (done && $("card-token").value.trim() === token) $("card-token").value = "";
    } finally {
      $("token-button").disabled = false;
    }
  }

  async function onCardId(event) {
    event.preventDefault();
    const id = $("card-id").value.trim();
    if (!id) { $("card-id").focus(); return; }
    $("id-button").disabled = true;
    try {
      const done = $("scan").dataset.mode === "board"
        ? await board({ card_id: id, passport_number: $("passport").value.trim() })
        : await scanAshore(id.toUpperCase().replace(/[^0-9A-Z]/g, ""));
      if (done && $("card-id").value.trim() === id) { $("card-id").value = ""; $("passport").value = ""; $("card-id").focus(); }
    } finally {
      $("id-button").disabled = false;
    }
  }

  // --- depart and return ----------------------------------------------------------------
  async function depart(overrideReason) {
    const t = state.trip;
    if (!t) return false;
    $("hold").hidden = true;
    tripMessage("");
    $("depart").disabled = true;
    try {
      await api("POST", "/api/v1/marine/trips/" + t.id + "/depart",
        overrideReason ? { override_reason: overrideReason } : {});
      stopCamera();
      clearMessages();
    } catch (err) {
      if (err.status === 409) {
        const warning = err.body && err.body.warning;
        let text = err.message;
        if (warning && typeof warning === "object") {
          const where = warning.station ? (warning.station.name || warning.station) : null;
          text += where ? " (" + where + (warning.reason ? ": " + warning.reason : "") + ")" : "";
        }
        $("hold-message").textContent = text;
        $("override-form").hidden = state.role !== "admin";
        $("hold").hidden = false;
      } else if (err.status !== 401) {
        tripMessage(fieldErrors(err));
      }
    } finally {
      $("depart").disabled = false;
      await openTrip(t.id, { keepMessages: true });
      refreshTrips();
    }
  }

  async function tripReturn() {
    const t = state.trip;
    if (!t) return false;
    tripMessage("");
    $("return").disabled = true;
    try {
      await api("POST", "/api/v1/marine/trips/" + t.id + "/return", {});
      clearMessages();
    } catch (err) {
      if (err.status !== 401) tripMessage(fieldErrors(err));
    } finally {
      $("return").disabled = false;
      await openTrip(t.id, { keepMessages: true });
      refreshTrips();
    }
  }

  // --- reading the card's QR: the staff pages' one scanner (/static/web/scanner.js) ------------
  let scanner = null;  // attached once the page has loaded
  function stopCamera() { if (scanner) scanner.stop(); }
  function scanMessage(text) { if (scanner) scanner.message(text); }
  function gotCode() { onToken(); }  // the scanner has put the code it read into #card-token

  // --- wiring --------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    signin = StaffSession.signInForm(session, {
      roles: ["marine_operator", "admin"], refused: "This page is for boat operators. / หน้านี้สำหรับผู้ประกอบการเรือ",
      onSignedIn: signedIn, onSignedOut: signedOut,
    });
    $("refresh").addEventListener("click", () => refresh({ force: true }));
    $("new-trip").addEventListener("click", openTripForm);
    $("trip-cancel").addEventListener("click", () => { $("trip-form-card").hidden = true; });
    $("trip-form").addEventListener("submit", createTrip);
    scanner = CardScanner.attach(document.querySelector("[data-scanner]"), { onCode: gotCode });
    $("token-form").addEventListener("submit", onToken);
    $("id-form").addEventListener("submit", onCardId);
    $("depart").addEventListener("click", () => depart(null));
    $("override-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const reason = $("override-reason").value.trim();
      if (reason) depart(reason);
    });
    $("return").addEventListener("click", tripReturn);
    document.addEventListener("visibilitychange", () => { if (!document.hidden && state.token) refresh(); });
    load();
    start().catch((err) => signOut(err.message));
  });
})();
