/* The immigration officer's page: sign in, issue a card, then print it; find a card by passport
   number, name or card id to reprint, close or revoke it. Text goes in with textContent only. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const CHECKPOINT_KEY = "pts.checkpoint";
  const staff = StaffSession.open("pts.staff");  // the shared session (/static/web/staff.js)

  function show() {
    const grant = staff.grant();
    const signedIn = !!grant;
    $("signin").hidden = signedIn;
    $("issue-section").hidden = !signedIn;
    $("find-section").hidden = !signedIn;
    $("who").hidden = !signedIn;
    if (signedIn) {
      $("who-name").textContent = `${grant.username} (${grant.role})`;
      if (!["immigration", "admin"].includes(grant.role)) {
        $("issue-error").textContent = "Your account may not issue cards (immigration officers only).";
      }
    }
  }

  function thaiToday() {
    // the stay is counted in Thai dates (UTC+7)
    return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
  }

  function clearErrors() {
    document.querySelectorAll("#issue .error").forEach((el) => { el.textContent = ""; });
    document.querySelectorAll("#issue [aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    $("issue-error").textContent = "";
  }

  function showErrors(errors) {
    let first = null;
    for (const [field, messages] of Object.entries(errors || {})) {
      const slot = document.querySelector(`#issue .error[data-for="${CSS.escape(field)}"]`);
      const input = $(field);
      const text = Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages);
      if (slot) slot.textContent = text; else $("issue-error").textContent += `${field}: ${text} `;
      if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
    }
    if (first) first.focus();
  }

  function formBody() {
    const body = {};
    for (const el of $("issue").elements) {
      if (!el.name) continue;
      const value = el.value.trim();
      if (value !== "") body[el.name] = value;
    }
    return body;
  }

  // the shared sign-in form (/static/web/staff.js): every role may sign in; show() says who may issue cards
  const signin = StaffSession.signInForm(staff, {
    onSignedIn: () => { show(); $("full_name").focus(); },
    onSignedOut: show,
  });

  $("issue").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const button = $("issue-button");
    if (button.disabled) return;  // one card per click, even on a double click
    button.disabled = true;
    try {
      const { data: card } = await staff.api("POST", "/api/v1/cards", formBody());
      localStorage.setItem(CHECKPOINT_KEY, $("checkpoint").value);
      // the enrollment code travels in the fragment: never sent to the server, never logged
      location.assign(`${card.links.print}#code=${encodeURIComponent(card.enrollment_code)}`);
    } catch (error) {
      if (error.status === 422) {
        showErrors((error.body.errors || {}).json || error.body.errors);
        $("issue-error").textContent = "Please correct the marked fields · กรุณาแก้ไขช่องที่ทำเครื่องหมาย";
      } else if (error.status === 401) {
        signin.signOut("Your session has ended: sign in again.");
      } else {
        $("issue-error").textContent = error.message;
      }
      button.disabled = false;
    }
  });

  // --- finding a card ---------------------------------------------------------------
  const STATUS_TH = {active: "ใช้งานได้", revoked: "ถูกเพิกถอน", closed: "ปิดแล้ว", expired: "หมดอายุ"};
  const found = {q: null, cursor: null, items: [], chosen: null};

  const { el } = StaffSession;  // the staff pages' element builder (/static/web/staff.js)

  function statusText(status) { return `${status} · ${STATUS_TH[status] || status}`; }

  function resultItem(card) {
    const button = el("button", {type: "button", class: "result", "data-card-id": card.card_id},
      el("strong", {class: "name", text: card.full_name}),
      card.latin_name ? el("span", {class: "latin", text: card.latin_name}) : null,
      el("span", {text: `${card.nationality} · ${card.passport_number}`}),
      el("span", {class: "mono", text: card.card_id_display}),
      el("span", {class: `status status-${card.status}`, text: statusText(card.status)}),
      el("span", {text: `valid until ${CardDates.printed(card.stay_until)}`}));
    button.addEventListener("click", () => choose(card));
    return el("li", {}, button);
  }

  function renderResults() {
    $("find-results").replaceChildren(...found.items.map(resultItem));
    $("find-more").hidden = !found.cursor;
  }

  async function find(more) {
    const message = $("find-message");
    const q = more ? found.q : $("find-q").value.trim();
    message.textContent = "";
    if (q.length < 2) { message.textContent = "Type at least 2 characters · พิมพ์อย่างน้อย 2 ตัวอักษร"; return; }
    const params = new URLSearchParams({q, limit: "20"});
    if (more && found.cursor) params.set("cursor", found.cursor);
    $("find-button").disabled = true;
    try {
      const { data: page } = await staff.api("GET", `/api/v1/cards?${params}`);
      if (!more) Object.assign(found, {q, items: [], chosen: null});
      found.items.push(...page.items);
      found.cursor = page.next_cursor;
      if (!more) $("chosen").hidden = true;
      renderResults();
      if (!found.items.length) message.textContent = "No card found · ไม่พบบัตร";
      else message.textContent = `${found.items.length} card(s) found · พบ ${found.items.length} ใบ`;
      if (found.items.length === 1 && !more) choose(found.items[0]);
    } catch (error) {
      if (error.status === 401) signin.signOut("Your session has ended: sign in again.");
      else if (error.status === 403) message.textContent = "Immigration officers only · สำหรับเจ้าหน้าที่ตรวจคนเข้าเมือง";
      else message.textContent = error.message;
    } finally {
      $("find-button").disabled = false;
    }
  }

  function choose(card) {
    found.chosen = card;
    $("c-card-id").textContent = card.card_id_display;
    $("c-status").textContent = statusText(card.status);
    $("c-status").className = `status status-${card.status}`;
    $("c-name").textContent = card.full_name;
    $("c-latin").textContent = card.latin_name || "—";
    $("c-nationality").textContent = card.nationality;
    $("c-passport").textContent = card.passport_number;
    $("c-valid").textContent = CardDates.printed(card.stay_until);
    $("manage-message").textContent = card.revoke_reason ? `Revoked: ${card.revoke_reason}` : "";
    const active = card.status === "active";
    $("close-button").disabled = !active;
    $("revoke-button").disabled = card.status === "revoked";
    $("chosen").hidden = false;
    for (const item of document.querySelectorAll("#find-results .result")) {
      item.setAttribute("aria-pressed", String(item.dataset.cardId === card.card_id));
    }
  }

  async function manage(action) {
    const card = found.chosen;
    const message = $("manage-message");
    message.textContent = "";
    if (!card) return;
    if (action === "reprint") { location.assign(card.links.print); return; }
    const json = action === "revoke" ? {reason: $("manage-reason").value.trim()} : undefined;
    if (action === "revoke" && !json.reason) {
      message.textContent = "Give a reason for the revocation · กรุณาระบุเหตุผล";
      $("manage-reason").focus();
      return;
    }
    try {
      const { data: updated } = await staff.api("POST", `/api/v1/cards/${encodeURIComponent(card.card_id)}/${action}`, json);
      Object.assign(card, {status: updated.status, revoke_reason: updated.revoke_reason});
      renderResults();
      choose(card);
      message.textContent = `Card ${updated.card_id_display}: ${statusText(updated.status)}.` +
        (updated.revoke_reason ? ` (${updated.revoke_reason})` : "");
      $("manage-reason").value = "";
    } catch (error) {
      message.textContent = error.message;
    }
  }

  $("find").addEventListener("submit", (event) => { event.preventDefault(); find(false); });
  $("find-more").addEventListener("click", () => find(true));
  $("reprint-button").addEventListener("click", () => manage("reprint"));
  $("close-button").addEventListener("click", () => manage("close"));
  $("revoke-button").addEventListener("click", () => manage("revoke"));

  const today = thaiToday();
  $("stay_until").min = today;
  $("date_of_birth").max = today;
  const remembered = localStorage.getItem(CHECKPOINT_KEY);
  if (remembered && [...$("checkpoint").options].some((o) => o.value === remembered)) $("checkpoint").value = remembered;
  show();
})();
