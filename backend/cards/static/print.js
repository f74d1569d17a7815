/* The printable card: loads the card, its QR and the enrollment QR with the officer's token. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const cardId = encodeURIComponent(document.body.dataset.cardId);
  const codeKey = `pts.enroll.${cardId}`;
  const staff = StaffSession.open("pts.staff");  // the checkpoint's session (/static/web/staff.js)
  const SVG = {accept: "image/svg+xml"};

  function takeCodeFromFragment() {
    const params = new URLSearchParams(location.hash.slice(1));
    const code = params.get("code");
    if (code) {
      sessionStorage.setItem(codeKey, code);
      history.replaceState(null, "", location.pathname);  // keep the code out of the history
    }
    return sessionStorage.getItem(codeKey);
  }

  async function imageInto(img, response) {
    const blob = await response.blob();
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error("the QR image did not load"));
      img.src = URL.createObjectURL(blob);
    });
  }

  async function showEnrollment(code) {
    const {response} = await staff.api("POST", `/api/v1/cards/${cardId}/enrollment-qr.svg`,
                                       {enrollment_code: code}, SVG);
    await imageInto($("qr-enroll"), response);
    $("f-code").textContent = code;
  }

  // The printed "valid until" is the card's stay_until date as it is (a Thai date), never a
  // timestamp converted through this PC's time zone (CardDates in dates.js).
  const validUntil = (card) => CardDates.printed(card.stay_until);

  async function load() {
    if (!staff.grant()) {
      $("print-error").textContent = "";
      $("print-error").append("Sign in at the checkpoint page first · กรุณาเข้าสู่ระบบ ");
      const link = Object.assign(document.createElement("a"), {href: "/checkpoint", textContent: "/checkpoint"});
      $("print-error").append(link);
      return;
    }
    const code = takeCodeFromFragment();
    const {data: card} = await staff.api("GET", `/api/v1/cards/${cardId}`);
    $("f-name").textContent = card.full_name;
    if (card.latin_name && card.latin_name !== card.full_name.toUpperCase()) {
      $("f-latin").textContent = card.latin_name;
      $("f-latin").hidden = $("f-latin-label").hidden = false;
    }
    $("f-nationality").textContent = card.nationality;
    $("f-card-id").textContent = card.card_id_display;
    $("f-card-id-2").textContent = card.card_id_display;
    $("f-valid").textContent = validUntil(card) + (card.kind === "resident" ? " · resident" : "");
    if (card.status !== "active") {
      $("status-banner").hidden = false;
      $("status-banner").textContent = `This card is ${card.status.toUpperCase()} — do not hand it out.`;
    }
    await imageInto($("qr-token"), (await staff.api("GET", card.links.qr_svg, undefined, SVG)).response);
    if (code && card.status === "active") {
      try {
        await showEnrollment(code);
      } catch (error) {
        sessionStorage.removeItem(codeKey);
        $("new-code-button").hidden = false;
        $("print-error").textContent = "The enrollment code is no longer valid: issue a new one to print it.";
      }
    } else if (card.status === "active") {
      $("new-code-button").hidden = false;  // a reprint: the old code is known only as a hash
    }
    $("print-button").disabled = false;
    document.body.dataset.ready = "1";
  }

  $("new-code-button").addEventListener("click", async () => {
    $("print-error").textContent = "";
    try {
      const {data: fresh} = await staff.api("POST", `/api/v1/cards/${cardId}/enrollment-code`);
      sessionStorage.setItem(codeKey, fresh.enrollment_code);
      await showEnrollment(fresh.enrollment_code);
      $("new-code-button").hidden = true;
    } catch (error) {
      $("print-error").textContent = error.message;
    }
  });

  $("print-button").addEventListener("click", () => window.print());

  load().catch((error) => {
    $("print-error").textContent = error.status === 404 ? "No such card · ไม่พบบัตร" : error.message;
    document.body.dataset.ready = "error";
  });
})();
