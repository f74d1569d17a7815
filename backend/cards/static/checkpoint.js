/* The immigration officer's page: sign in, issue a card, then print it; reprint, close, revoke. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const CHECKPOINT_KEY = "pts.checkpoint";

  function show() {
    const grant = Staff.session();
    const signedIn = !!grant && grant.expiresAt > Date.now();
    $("signin-section").hidden = signedIn;
    $("issue-section").hidden = !signedIn;
    $("manage-section").hidden = !signedIn;
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

  $("signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    $("signin-button").disabled = true;
    try {
      await Staff.signIn($("username").value.trim(), $("password").value);
      $("password").value = "";
      show();
      $("full_name").focus();
    } catch (error) {
      $("signin-error").textContent = error.status === 401 ? "Wrong username or password · ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"
                                                            : error.message;
    } finally {
      $("signin-button").disabled = false;
    }
  });

  $("signout").addEventListener("click", () => { Staff.clear(); show(); });

  $("issue").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const button = $("issue-button");
    if (button.disabled) return;  // one card per click, even on a double click
    button.disabled = true;
    try {
      const response = await Staff.api("/api/v1/cards", {method: "POST", json: formBody()});
      const card = await response.json();
      localStorage.setItem(CHECKPOINT_KEY, $("checkpoint").value);
      // the enrollment code travels in the fragment: never sent to the server, never logged
      location.assign(`${card.links.print}#code=${encodeURIComponent(card.enrollment_code)}`);
    } catch (error) {
      if (error.status === 422) {
        showErrors((error.body.errors || {}).json || error.body.errors);
        $("issue-error").textContent = "Please correct the marked fields · กรุณาแก้ไขช่องที่ทำเครื่องหมาย";
      } else if (error.status === 401) {
        show();
        $("signin-error").textContent = "Your session has ended: sign in again.";
      } else {
        $("issue-error").textContent = error.message;
      }
      button.disabled = false;
    }
  });

  async function manage(action) {
    const cardId = $("manage-card-id").value.trim();
    const message = $("manage-message");
    message.textContent = "";
    if (!cardId) { message.textContent = "Enter the card id."; return; }
    try {
      if (action === "reprint") {
        const card = await (await Staff.api(`/api/v1/cards/${encodeURIComponent(cardId)}`)).json();
        location.assign(card.links.print);
        return;
      }
      const json = action === "revoke" ? {reason: $("manage-reason").value.trim()} : undefined;
      if (action === "revoke" && !json.reason) { message.textContent = "Give a reason for the revocation."; return; }
      const response = await Staff.api(`/api/v1/cards/${encodeURIComponent(cardId)}/${action}`, {method: "POST", json});
      const card = await response.json();
      message.textContent = `Card ${card.card_id_display}: ${card.status}.`;
    } catch (error) {
      message.textContent = error.message;
    }
  }

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
