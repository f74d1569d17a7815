/* The hotel manager's page: sign in, scan/upload/paste a Smart Tourist Card, check guests in
   and out, watch their safety status. Every data call is an ordinary authorized API call. */
(function () {
  "use strict";

  const STORE = "pts.hotel";
  const REFRESH_MS = 30000;
  const $ = (id) => document.getElementById(id);

  const STATUS = {
    sos: ["SOS", "ขอความช่วยเหลือ (SOS)"],
    in_danger: ["In a danger zone", "อยู่ในเขตอันตราย"],
    overdue: ["No contact (overdue)", "ขาดการติดต่อ"],
    outside_area: ["Outside Phuket", "อยู่นอกพื้นที่ภูเก็ต"],
    ok: ["OK", "ปกติ"],
    untracked: ["No app contact yet", "ยังไม่มีการติดต่อจากแอป"],
  };
  const KIND = {
    sos: ["SOS", "ขอความช่วยเหลือ"], danger_zone: ["Danger zone", "เขตอันตราย"], overdue: ["Overdue", "ขาดการติดต่อ"],
    left_area: ["Left the area", "ออกนอกพื้นที่"],
  };
  const INCIDENT_STATUS = {
    new: ["new", "ใหม่"], acknowledged: ["acknowledged by 191", "191 รับเรื่องแล้ว"],
    dispatched: ["help on the way", "กำลังส่งเจ้าหน้าที่"],
  };
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
    card_mismatch: "หมายเลขบัตรที่พิมพ์ไม่ตรงกับบัตรที่สแกน",
    passport_mismatch: "หมายเลขบัตรและเลขหนังสือเดินทางไม่ตรงกัน",
  };

  // The date printed on the card ("valid until") is its stay_until, a Thai date: shown as it is,
  // never through new Date() and this PC's time zone (expires_at shown in Bangkok is the next day).
  function printedDate(isoDate) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate || "");
    return match ? match[3] + "/" + match[2] + "/" + match[1] : "—";
  }

  const state = { token: null, role: null, hotelId: null, username: null, guests: [], timer: null,
                  confirming: null };

  // --- session: the shared staff session and API client (/static/web/staff.js) ------------------
  const session = StaffSession.open(STORE, { onExpired: (message) => signOut(message) });
  function load() {
    const grant = session.grant() || {};
    state.token = grant.token || null;
    state.role = grant.role || null;
    state.username = grant.username || null;
    state.hotelId = grant.hotelId ? Number(grant.hotelId) : null;
  }
  function save() {  // the one thing this page changes in its grant: the hotel an admin picked
    if (!state.token) session.signOut();
    else session.update({ hotelId: state.hotelId });
  }
  let signin = null;  // the shared sign-in form (StaffSession.signInForm), wired once the page has loaded
  function signOut(message) { signin.signOut(message); }  // ends the session; `message` says why under the form
  function signedOut() {
    stopCamera();
    clearInterval(state.timer);
    Object.assign(state, { token: null, role: null, hotelId: null, username: null, guests: [] });
    save();
    show("signin");
  }
  const api = (method, path, body) => session.api(method, path, body);

  // --- views ---------------------------------------------------------------------------
  function show(which) {
    $("signin").hidden = which !== "signin";
    $("pick-hotel").hidden = which !== "pick";
    $("app").hidden = which !== "app";
    $("who").hidden = which === "signin";
    $("hotel-name").hidden = which !== "app";
    if (state.username) $("who-name").textContent = state.username;
  }
  const { el, bilingual } = StaffSession;  // the staff pages' element builder (/static/web/staff.js)
  function when(iso) {
    if (!iso) return "—";
    const date = new Date(iso);
    const minutes = Math.round((Date.now() - date.getTime()) / 60000);
    let ago;
    if (minutes < 1) ago = "just now";
    else if (minutes < 60) ago = minutes + " min ago";
    else if (minutes < 48 * 60) ago = Math.floor(minutes / 60) + " h " + (minutes % 60) + " min ago";
    else ago = Math.floor(minutes / 1440) + " days ago";
    return ago + " · " + date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  }

  // --- sign-in and hotel ---------------------------------------------------------------
  async function signedIn() {
    load();
    await start();
  }

  async function start() {
    if (!state.token) { show("signin"); return; }
    if (!state.hotelId) {
      if (state.role !== "admin") { signOut("Your account is not bound to a hotel."); return; }
      const { data } = await api("GET", "/api/v1/hotels");
      const select = $("hotel-select");
      select.replaceChildren(...data.items.map((h) => el("option", { value: h.id, text: h.name + " (#" + h.id + ")" })));
      show("pick");
      return;
    }
    try {
      const { data } = await api("GET", "/api/v1/hotels/" + state.hotelId);
      $("hotel-name").textContent = data.name + (data.sha_plus_cert ? " · SHA Plus " + data.sha_plus_cert : "");
    } catch (err) {
      if (err.status === 403 || err.status === 404) { signOut(err.message); return; }
    }
    show("app");
    await refreshGuests();
    clearInterval(state.timer);
    state.timer = setInterval(() => { if (!document.hidden) refreshGuests(); }, REFRESH_MS);
  }

  // --- reading the card's QR: the staff pages' one scanner (/static/web/scanner.js) ------------
  let scanner = null;  // attached once the page has loaded
  function stopCamera() { if (scanner) scanner.stop(); }
  function scanMessage(text) { if (scanner) scanner.message(text); }
  function gotCode() { verify(); }  // the scanner has put the code it read into #card-token

  // --- verification and check-in -------------------------------------------------------
  let pending = null;

  function resetResult() {
    pending = null;
    $("result").hidden = true;
    $("result-ok").hidden = true;
    $("result-refused").hidden = true;
  }

  function showRefusal(reason, message, card) {
    $("result").hidden = false;
    $("result-ok").hidden = true;
    $("result-refused").hidden = false;
    $("refusal-en").textContent = message || "The card is not valid.";
    $("refusal-th").textContent = REFUSAL_TH[reason] || "บัตรไม่ถูกต้อง";
    $("result-refused").dataset.reason = reason || "";
    if (card) {
      $("refusal-holder").textContent = card.full_name + " · " + card.nationality + " · " + cardId(card.card_id);
      $("refusal-holder").hidden = false;
    } else {
      $("refusal-holder").hidden = true;
    }
  }

  async function verify(event) {
    if (event) event.preventDefault();
    $("checkin-message").hidden = true;
    const token = $("card-token").value.trim();
    if (!token) { scanMessage("Scan, upload or paste the card's code first. / กรุณาสแกนหรือวางรหัสบัตร"); return; }
    resetResult();
    $("verify-button").disabled = true;
    try {
      const body = { card_token: token };
      if ($("card-id").value.trim()) body.card_id = $("card-id").value.trim();
      const { data } = await api("POST", "/api/v1/hotels/" + state.hotelId + "/checkins/verify", body);
      if (!data.valid) { showRefusal(data.reason, data.message, data.card); return; }
      pending = body;
      $("r-name").textContent = data.card.full_name;
      $("r-latin").textContent = data.card.latin_name || "—";
      $("r-nationality").textContent = data.card.nationality;
      $("r-card").textContent = cardId(data.card.card_id);
      $("r-valid").textContent = printedDate(data.card.stay_until);
      $("r-here").hidden = !data.stay;
      $("r-elsewhere").hidden = !data.staying_elsewhere;
      $("room").value = data.stay && data.stay.room ? data.stay.room : "";
      $("result").hidden = false;
      $("result-ok").hidden = false;
      $("room").focus();
    } catch (err) {
      if (err.status === 422 && err.body && err.body.errors) showRefusal("malformed", err.message, null);
      else if (err.status !== 401) scanMessage(err.message);
    } finally {
      $("verify-button").disabled = false;
    }
  }

  async function checkIn(event) {
    event.preventDefault();
    if (!pending) return;
    $("checkin-button").disabled = true;
    try {
      const room = $("room").value.trim();
      const { status, data } = await api("POST", "/api/v1/hotels/" + state.hotelId + "/checkins",
        { ...pending, room: room || null });
      resetResult();
      $("card-token").value = "";
      $("card-id").value = "";
      scanMessage("");
      const message = $("checkin-message");
      message.textContent = checkedInMessage(status, data);
      message.hidden = false;
      await refreshGuests();
    } catch (err) {
      if (err.status === 422 && err.body && err.body.reason) showRefusal(err.body.reason, err.body.message, null);
      else if (err.status !== 401) scanMessage(err.message);
    } finally {
      $("checkin-button").disabled = false;
    }
  }

  // --- check-in without a camera: card id + passport number ----------------------------
  function checkedInMessage(status, data) {
    return (status === 201 ? "Checked in: " : "Already checked in: ") + data.full_name +
      (data.latin_name && data.latin_name !== data.full_name.toUpperCase() ? " (" + data.latin_name + ")" : "") +
      (data.room ? " · room " + data.room : "") + " · valid until " + printedDate(data.stay_until) +
      (status === 201 ? " / เช็คอินเรียบร้อย" : " / เช็คอินแล้ว");
  }

  async function checkInByPassport(event) {
    event.preventDefault();
    const error = $("passport-error");
    error.hidden = true;
    $("checkin-message").hidden = true;
    resetResult();
    const cardIdText = $("np-card-id").value.trim();
    const passport = $("np-passport").value.trim();
    if (!cardIdText || !passport) {
      error.textContent = "Type the card id and the passport number. / กรุณากรอกหมายเลขบัตรและเลขหนังสือเดินทาง";
      error.hidden = false;
      return;
    }
    $("passport-button").disabled = true;
    try {
      const room = $("np-room").value.trim();
      const { status, data } = await api("POST", "/api/v1/hotels/" + state.hotelId + "/checkins",
        { card_id: cardIdText, passport_number: passport, room: room || null });
      $("passport-form").reset();
      const message = $("checkin-message");
      message.textContent = checkedInMessage(status, data);
      message.hidden = false;
      await refreshGuests();
    } catch (err) {
      if (err.status === 422 && err.body && err.body.reason) {
        showRefusal(err.body.reason, err.body.message, null);
      } else if (err.status === 422 && err.body && err.body.errors) {
        const fields = (err.body.errors.json) || {};
        error.textContent = Object.entries(fields).map(([k, v]) => k + ": " + [].concat(v).join(" ")).join(" · ") ||
          err.message;
        error.hidden = false;
      } else if (err.status === 429) {
        const minutes = Math.max(1, Math.ceil(Number(err.retryAfter || 300) / 60));
        error.textContent = "Too many wrong card id / passport pairs: wait about " + minutes + " min. " +
          "/ ลองผิดหลายครั้งเกินไป กรุณารอประมาณ " + minutes + " นาที";
        error.hidden = false;
      } else if (err.status !== 401) {
        error.textContent = err.message;
        error.hidden = false;
      }
    } finally {
      $("passport-button").disabled = false;
    }
  }

  // --- the guest list ------------------------------------------------------------------
  async function refreshGuests() {
    if (!state.token || !state.hotelId) return;
    try {
      const { data } = await api("GET", "/api/v1/hotels/" + state.hotelId + "/guests");
      state.guests = data.items;
      renderGuests();
      renderCounts(data.counts || {});
      $("updated").textContent = "Updated " + new Date().toLocaleTimeString() + " · อัปเดต";
    } catch (err) {
      if (err.status !== 401) $("updated").textContent = "Not updated: " + err.message;
    }
  }

  // card ids are printed in groups of three (7KQ-4M2-ZH9)
  function cardId(id) { return id && id.length === 9 ? id.slice(0, 3) + "-" + id.slice(3, 6) + "-" + id.slice(6) : id; }

  function statusKey(guest) { return guest.status === "ok" && !guest.tracked ? "untracked" : guest.status; }

  function renderCounts(counts) {
    const items = ["sos", "in_danger", "overdue", "outside_area", "ok"].map((status) =>
      el("li", { class: "count status-" + status, "data-status": status },
        el("strong", { text: String(counts[status] || 0) }), " ", bilingual(STATUS[status])));
    $("counts").replaceChildren(...items);
    const urgent = state.guests.filter((g) => g.status === "sos" || g.status === "in_danger");
    const alert = $("alert");
    if (urgent.length) {
      alert.replaceChildren(el("strong", { text: "⚠ " }),
        urgent.map((g) => g.full_name + (g.room ? " (" + g.room + ")" : "") + ": " + STATUS[g.status][0]).join(" · "),
        el("span", { class: "th", lang: "th",
          text: " — แขกต้องการความช่วยเหลือ ศูนย์ 191 ได้รับแจ้งแล้ว" }),
        el("div", { class: "hint", text: "The 191 center has been alerted. If you can help, call 191." }));
      alert.hidden = false;
    } else {
      alert.hidden = true;
    }
  }

  function renderGuests() {
    const query = $("filter").value.trim().toLowerCase();
    const rows = state.guests
      .filter((g) => !query || [g.full_name, g.latin_name || "", g.room || "", g.card_id, g.nationality].join(" ")
        .toLowerCase().includes(query))
      .map(guestRow);
    $("guest-rows").replaceChildren(...rows);
    $("no-guests").hidden = state.guests.length > 0;
    $("guests").hidden = state.guests.length === 0;
  }

  function guestRow(g) {
    const key = statusKey(g);
    const incidents = g.open_incidents.length
      ? el("ul", { class: "incidents" }, ...g.open_incidents.map((i) =>
        el("li", { class: "sev-" + i.severity }, bilingual(KIND[i.kind] || [i.kind, i.kind]), " · ",
          bilingual(INCIDENT_STATUS[i.status] || [i.status, i.status], "muted"))))
      : el("span", { class: "muted", text: "—" });
    const cardNote = g.card_status && g.card_status !== "active"
      ? el("div", { class: "warn", text: "Card " + g.card_status + " — check out? / บัตรใช้ไม่ได้แล้ว" }) : null;
    const checkout = el("button", { type: "button", class: "checkout", text: "Check out / เช็คเอาท์" });
    checkout.addEventListener("click", () => onCheckout(g, checkout));
    return el("tr", { class: "guest status-" + key, "data-stay-id": String(g.stay_id), "data-status": g.status },
      el("td", { class: "status-cell" }, el("span", { class: "badge status-" + key }, bilingual(STATUS[key]))),
      el("td", {}, el("div", { class: "name", text: g.full_name }),
        g.latin_name && g.latin_name !== g.full_name.toUpperCase()
          ? el("div", { class: "latin", text: g.latin_name }) : null,
        el("div", { class: "muted", text: g.nationality + " · " + cardId(g.card_id) +
          " · valid until " + printedDate(g.stay_until) }), cardNote),
      el("td", { class: "room", text: g.room || "—" }),
      el("td", { class: "seen", text: g.tracked ? when(g.last_seen_at) : "—" }),
      el("td", {}, incidents),
      el("td", {}, checkout));
  }

  async function onCheckout(guest, button) {
    if (state.confirming !== guest.stay_id) {  // two taps: no accidental check-out
      state.confirming = guest.stay_id;
      button.textContent = "Confirm check-out " + (guest.room || guest.full_name) + "? / ยืนยัน";
      button.classList.add("confirm");
      setTimeout(() => { if (state.confirming === guest.stay_id) { state.confirming = null; renderGuests(); } }, 5000);
      return;
    }
    state.confirming = null;
    button.disabled = true;
    try {
      await api("POST", "/api/v1/hotels/" + state.hotelId + "/stays/" + guest.stay_id + "/checkout");
      const message = $("checkin-message");
      message.textContent = "Checked out: " + guest.full_name + " / เช็คเอาท์เรียบร้อย";
      message.hidden = false;
    } catch (err) {
      if (err.status !== 401) $("updated").textContent = "Check-out failed: " + err.message;
    }
    await refreshGuests();
  }

  // --- wiring --------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    signin = StaffSession.signInForm(session, {
      roles: ["hotel_manager", "admin"], refused: "This page is for hotel managers. / หน้านี้สำหรับผู้จัดการโรงแรม",
      onSignedIn: signedIn, onSignedOut: signedOut,
    });
    $("hotel-open").addEventListener("click", () => {
      state.hotelId = Number($("hotel-select").value) || null;
      save();
      start();
    });
    scanner = CardScanner.attach(document.querySelector("[data-scanner]"), { onCode: gotCode });
    $("token-form").addEventListener("submit", verify);
    $("passport-form").addEventListener("submit", checkInByPassport);
    $("checkin-form").addEventListener("submit", checkIn);
    $("checkin-cancel").addEventListener("click", () => { resetResult(); $("card-token").value = ""; });
    $("refresh").addEventListener("click", refreshGuests);
    $("filter").addEventListener("input", renderGuests);
    document.addEventListener("visibilitychange", () => { if (!document.hidden && state.token) refreshGuests(); });
    load();
    start().catch((err) => signOut(err.message));
  });
})();
