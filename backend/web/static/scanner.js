/* The staff pages' one Smart Tourist Card QR scanner (the hotel desk /hotel, the boat operators /marine).
 * Served once, at /static/web/scanner.js, by the shared web blueprint (backend/web), after the pinned
 * decoder /vendor/jsqr/jsQR.js: same-origin scripts, so every page's Content-Security-Policy is unchanged,
 * and the camera works only where backend/web/security.py's Permissions-Policy allows it.
 *
 * Three ways to read a card: the camera (getUserMedia; frames go through the browser's BarcodeDetector
 * where it reads QR codes, else jsQR), a photo of the QR (file upload, decoded the same way at a few
 * sizes), or the code pasted into the code field. The module fills the code field with what the camera
 * or the photo read and calls the page back; the page's own form submits the field (a paste).
 *
 * Markup contract: one root element, and inside it these parts, found by their data-scan attribute
 * (all but the code field come as one partial, backend/web/templates/web/scanner_controls.html:
 * {% include "web/scanner_controls.html" %}; docs/staff-scanner.md):
 *
 *   <div data-scanner>
 *     <button type="button" data-scan="start">📷 Scan card QR …</button>
 *     <button type="button" data-scan="stop" hidden>Stop camera …</button>
 *     <label class="button" for="qr-file">🖼 Photo of the QR …</label>
 *     <input type="file" id="qr-file" data-scan="file" accept="image/*" capture="environment" class="visually-hidden">
 *     <div data-scan="camera" hidden><video playsinline muted></video> <p class="hint">…</p></div>
 *     <p data-scan="message" role="status"></p>
 *     <textarea data-scan="code"></textarea>          (optional: the pasted code; filled on a read)
 *   </div>
 *
 *   const scanner = CardScanner.attach(root, { onCode: (text) => … });
 *   scanner.stop();             // release the camera (sign-out, a departure, …)
 *   scanner.message("…");       // the status line under the buttons ("" clears it)
 *
 * onCode(text) gets the trimmed text of the first QR code read; the camera is released before it is
 * called. The messages are the pages' bilingual English / Thai ones.
 *
 * The tourist app (mobile_api/webapp/static/app.js) keeps its own camera scan: its messages come from
 * its twelve-language catalogs, it keeps looking past a QR that is not an enrollment code, and it has
 * no photo or paste path; its shell (cached by the service worker for offline start) is /app's own.
 */
(function () {
  "use strict";

  const MESSAGES = {
    reading: "Reading the photo… / กำลังอ่านรูป…",
    noCodeInPhoto: "No QR code found in the photo. Try a sharper, closer photo. / ไม่พบ QR ในรูป",
    notAnImage: "This file could not be read as an image. / ไม่สามารถอ่านไฟล์รูปนี้",
    noCamera: "The camera is not available here (it needs HTTPS). Upload a photo or paste the code. " +
              "/ ใช้กล้องไม่ได้ กรุณาอัปโหลดรูปหรือวางรหัส",
    cameraRefused: "The camera could not be opened: {name}. / เปิดกล้องไม่ได้",
    looking: "Looking for the QR code… / กำลังค้นหา QR…",
    read: "QR code read. / อ่าน QR แล้ว",
  };
  const FRAME_SIDE = 800;                  // camera frames are decoded at most this large
  const PHOTO_SIDES = [1200, 2400, 600];   // a phone photo is large: a moderate size first, then the full one
  const FRAME_PAUSE_MS = 120;

  // The browser's own QR reader, once per page: null where there is none (Firefox, most desktops).
  let detector = null;
  async function barcodeDetector() {
    if (detector !== null) return detector || null;
    detector = false;
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      } catch (err) { detector = false; }
    }
    return detector || null;
  }

  function drawScaled(canvas, source, width, height, maxSide) {
    const scale = Math.min(1, maxSide / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.imageSmoothingEnabled = scale < 1;
    ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function decodeCanvas(canvas, attempt) {
    if (typeof window.jsQR !== "function") return null;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: attempt });
    return code && code.data ? code.data : null;
  }

  async function decodeImageFile(canvas, file) {
    const bitmap = await createImageBitmap(file);
    try {
      const found = await barcodeDetector();
      if (found) {
        try {
          const codes = await found.detect(bitmap);
          if (codes.length && codes[0].rawValue) return codes[0].rawValue;
        } catch (err) { /* fall back to jsQR */ }
      }
      for (const side of PHOTO_SIDES) {
        const text = decodeCanvas(drawScaled(canvas, bitmap, bitmap.width, bitmap.height, side), "attemptBoth");
        if (text) return text;
      }
      return null;
    } finally {
      if (bitmap.close) bitmap.close();
    }
  }

  function attach(root, options) {
    if (!root) throw new Error("CardScanner.attach: no scanner root element");
    const part = (name) => root.querySelector('[data-scan="' + name + '"]');
    const start = part("start"), stop = part("stop"), file = part("file"), camera = part("camera");
    const status = part("message"), code = part("code");
    const video = camera ? camera.querySelector("video") : null;
    for (const [name, node] of Object.entries({ start, stop, file, camera, message: status })) {
      if (!node) throw new Error('CardScanner.attach: no [data-scan="' + name + '"] in the scanner root');
    }
    if (!video) throw new Error('CardScanner.attach: no <video> in [data-scan="camera"]');
    const canvas = document.createElement("canvas");  // never shown: only read back for jsQR
    const onCode = options && options.onCode;
    let stream = null;
    let scanning = false;

    function message(text) { status.textContent = text || ""; }

    function release() {
      scanning = false;
      if (stream) { for (const track of stream.getTracks()) track.stop(); }
      stream = null;
      video.srcObject = null;
      camera.hidden = true;
      start.hidden = false;
      stop.hidden = true;
    }

    function gotCode(text) {
      message(MESSAGES.read);
      const trimmed = String(text).trim();
      if (code) code.value = trimmed;
      if (onCode) onCode(trimmed);
    }

    async function onFile() {
      const chosen = file.files[0];
      if (!chosen) return;
      release();
      message(MESSAGES.reading);
      try {
        const text = await decodeImageFile(canvas, chosen);
        if (!text) { message(MESSAGES.noCodeInPhoto); return; }
        gotCode(text);
      } catch (err) {
        message(MESSAGES.notAnImage);
      } finally {
        file.value = "";
      }
    }

    async function startCamera() {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { message(MESSAGES.noCamera); return; }
      try {
        stream = await navigator.mediaDevices.getUserMedia(
          { video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
            audio: false });
      } catch (err) {
        message(MESSAGES.cameraRefused.replace("{name}", err.name));
        return;
      }
      video.srcObject = stream;
      await video.play().catch(() => {});
      camera.hidden = false;
      start.hidden = true;
      stop.hidden = false;
      message(MESSAGES.looking);
      scanning = true;
      scanLoop();
    }

    async function scanLoop() {
      if (!scanning) return;
      if (video.readyState >= 2 && video.videoWidth) {
        let text = null;
        const found = await barcodeDetector();
        if (found) {
          try {
            const codes = await found.detect(video);
            if (codes.length) text = codes[0].rawValue;
          } catch (err) { text = null; }
        } else {
          text = decodeCanvas(drawScaled(canvas, video, video.videoWidth, video.videoHeight, FRAME_SIDE), "dontInvert");
        }
        if (text && scanning) { release(); gotCode(text); return; }
      }
      if (scanning) setTimeout(() => requestAnimationFrame(scanLoop), FRAME_PAUSE_MS);
    }

    start.addEventListener("click", startCamera);
    stop.addEventListener("click", () => { release(); message(""); });
    file.addEventListener("change", onFile);
    return { stop: release, message };
  }

  window.CardScanner = { attach };
})();
