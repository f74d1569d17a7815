/* Phuket Tourist Safety — the tourist's companion web app.
 *
 * Nothing the phone produces is lost or doubled: pings and SOS get a client UUID when they are
 * made, wait in localStorage, and are sent (again, with the same id) until the server has
 * answered. The server is idempotent on those ids.
 */
(() => {
  'use strict';

  const CONFIG = JSON.parse(document.getElementById('pts-config').textContent);
  const API = '/api/v1';
  const LANGS = CONFIG.languages || ['en', 'th', 'ru', 'zh'];
  const RTL_LANGS = CONFIG.rtl_languages || ['ar', 'he'];
  const KEY = {
    device: 'pts.device', lang: 'pts.lang', me: 'pts.me', sos: 'pts.sos', pings: 'pts.pings',
    zones: 'pts.zones', zonesEtag: 'pts.zones.etag', facilities: 'pts.facilities', nextPingAt: 'pts.nextPingAt',
    lastFix: 'pts.lastFix', lastSent: 'pts.lastSent', messages: 'pts.messages', inboxSeen: 'pts.inboxSeen',
    trackingStopped: 'pts.trackingStopped', push: 'pts.push',
  };
  const MAX_BUFFERED_PINGS = 5000;
  const BATCH = 500;
  const TERMINAL = ['resolved', 'cancelled'];
  const PHUKET = [7.95, 98.34];

  // ---- storage -------------------------------------------------------------------------------
  const store = {
    get(key, fallback = null) {
      try {
        const raw = localStorage.getItem(key);
        return raw === null ? fallback : JSON.parse(raw);
      } catch (_) { return fallback; }
    },
    set(key, value) {
      try { localStorage.setItem(key, JSON.stringify(value)); return true; } catch (_) { return false; }
    },
    del(key) { localStorage.removeItem(key); },
  };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  // ---- i18n ----------------------------------------------------------------------------------
  let strings = {};
  let fallbackStrings = {};
  let lang = 'en';

  function supported(code) {
    if (!code) return null;
    const base = String(code).toLowerCase().split(/[-_]/)[0];
    return LANGS.includes(base) ? base : null;
  }

  function initialLanguage() {
    const chosen = store.get(KEY.lang);
    if (chosen && supported(chosen.code)) return supported(chosen.code);
    const device = store.get(KEY.device);
    return supported(device && device.card_language)
      || (navigator.languages || [navigator.language]).map(supported).find(Boolean) || 'en';
  }

  async function fetchStrings(code) {
    const res = await fetch(`/app/static/i18n/${code}.json`);
    if (!res.ok) throw new Error(`no strings for ${code}`);
    return res.json();
  }

  async function setLanguage(code, { explicit = false } = {}) {
    code = supported(code) || 'en';
    try {
      if (!Object.keys(fallbackStrings).length) fallbackStrings = await fetchStrings('en');
      strings = code === 'en' ? fallbackStrings : await fetchStrings(code);
      lang = code;
    } catch (_) { strings = fallbackStrings; lang = 'en'; }
    if (explicit) store.set(KEY.lang, { code: lang });
    document.documentElement.lang = lang;
    document.documentElement.dir = isRtl() ? 'rtl' : 'ltr';
    if (zoomControl) zoomControl.setPosition(isRtl() ? 'topright' : 'topleft');
    translatePage();
    renderAll();
    if (explicit) sendLanguage();
  }

  function isRtl() { return RTL_LANGS.includes(lang); }

  // The language chosen here is also the language of everything the server sends this phone
  // (push, broadcasts, SOS updates): PATCH /me now, or after the next /me when offline.
  let sendingLanguage = false;
  async function sendLanguage() {
    const chosen = store.get(KEY.lang);
    const me = store.get(KEY.me);
    if (!store.get(KEY.device) || !chosen || sendingLanguage || (me && me.language === chosen.code)) return;
    sendingLanguage = true;
    try {
      const r = await api('/mobile/me', { method: 'PATCH', body: { language: chosen.code } });
      if (r.ok && r.data) { store.set(KEY.me, r.data); renderHome(); }
    } catch (_) { setOnline(false); } finally { sendingLanguage = false; }
  }

  function t(key, vars) {
    let s = strings[key] !== undefined ? strings[key] : (fallbackStrings[key] !== undefined ? fallbackStrings[key] : key);
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
    return s;
  }

  function translatePage() {
    document.querySelectorAll('[data-i18n]').forEach((node) => { node.textContent = t(node.dataset.i18n); });
    document.querySelectorAll('[data-i18n-aria]').forEach((node) => node.setAttribute('aria-label', t(node.dataset.i18nAria)));
    document.title = t('app.title');
    document.querySelectorAll('[data-langs]').forEach((box) => {
      box.replaceChildren(...LANGS.map((code) => {
        // each name in its own language and script (lang: the right font and shaping; dir: its own direction)
        const button = el('button', { type: 'button', 'data-lang': code, 'aria-pressed': String(code === lang),
          lang: code, dir: RTL_LANGS.includes(code) ? 'rtl' : 'ltr', text: t(`lang.${code}`) });
        button.addEventListener('click', () => setLanguage(code, { explicit: true }));
        return button;
      }));
    });
  }

  const fmtTime = (iso) => {
    if (!iso) return '';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
  };
  const fmtDate = (iso) => {
    if (!iso) return '';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleDateString(lang, { dateStyle: 'long' });
  };
  const fmtDistance = (m) => (m >= 1000 ? `${(m / 1000).toFixed(m >= 10000 ? 0 : 1)} km` : `${Math.round(m)} m`);

  let toastTimer = null;
  function toast(message) {
    const box = $('toast');
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  // ---- network -------------------------------------------------------------------------------
  let online = navigator.onLine;

  async function api(path, { method = 'GET', body, auth = true, headers = {}, timeoutMs = 20000 } = {}) {
    const h = { Accept: 'application/json', ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const device = store.get(KEY.device);
    if (auth && device) h.Authorization = `Bearer ${device.device_token}`;
    // a request stuck on a dying connection must not hold the queue: give up and retry
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let res;
    try {
      res = await fetch(API + path, {
        method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    if (res.status !== 204 && res.status !== 304) {
      try { data = await res.json(); } catch (_) { data = null; }
    }
    setOnline(true);
    if (res.status === 401 && auth && device) deviceRejected();
    return { status: res.status, ok: res.ok, data, res };
  }

  // When the server says when to come back (Retry-After: seconds or an HTTP date), in ms; else null.
  function retryAfterMs(res) {
    const value = res && res.headers ? res.headers.get('Retry-After') : null;
    if (!value) return null;
    const seconds = Number(value);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : new Date(value).getTime() - Date.now();
    return Number.isFinite(ms) ? Math.max(0, ms) : null;
  }

  function setOnline(value) {
    if (online === value) return;
    online = value;
    renderNet();
  }

  function renderNet() {
    const box = $('net-status');
    const isOnline = online && navigator.onLine;
    box.textContent = isOnline ? t('net.online') : t('net.offline');
    box.classList.toggle('offline', !isOnline);
  }

  // ---- screens -------------------------------------------------------------------------------
  let screen = 'enroll';

  function show(name) {
    const device = store.get(KEY.device);
    if (!device && name !== 'enroll') name = 'enroll';
    screen = name;
    document.querySelectorAll('.screen').forEach((s) => { s.hidden = s.id !== `screen-${name}`; });
    $('tabs').hidden = !device;
    document.querySelectorAll('#tabs [data-goto]').forEach((b) => {
      if (b.dataset.goto === name) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
    });
    if (name !== 'enroll') stopScanner();
    if (name === 'map') openMap();
    if (name === 'inbox') loadInbox();
    if (name === 'settings') loadSetupLinks();
    if (name === 'sos') prepareSos();
    window.scrollTo(0, 0);
  }

  document.addEventListener('click', (event) => {
    const target = event.target.closest('[data-goto]');
    if (target) { event.preventDefault(); show(target.dataset.goto); }
  });

  function renderAll() {
    renderNet();
    renderPush();
    renderDangerAlert();
    renderHome();
    renderSosStatus();
    renderQueue();
    if (screen === 'map') renderMapLists();
    if (screen === 'inbox') renderInbox(store.get(KEY.messages));
    renderSetupLinks();
  }

  // ---- enrollment ----------------------------------------------------------------------------
  function platform() {
    const ua = navigator.userAgent || '';
    if (/android/i.test(ua)) return 'android';
    if (/iphone|ipad|ipod/i.test(ua)) return 'ios';
    return 'other';
  }

  function enrollmentFromText(text) {
    if (!text) return null;
    let params = null;
    try {
      const url = new URL(text, location.href);
      params = new URLSearchParams(url.hash.replace(/^#/, '') || url.search);
    } catch (_) {
      params = new URLSearchParams(String(text).replace(/^#/, ''));
    }
    const cardId = params.get('card_id');
    const code = params.get('code');
    return cardId && code ? { cardId: cardId.trim(), code: code.trim() } : null;
  }

  function showEnrollError(message) {
    const box = $('enroll-error');
    box.textContent = message || '';
    box.hidden = !message;
  }

  let enrolling = false;
  async function enroll(cardId, code) {
    if (enrolling) return;
    showEnrollError('');
    if (!cardId || !code) { showEnrollError(t('enroll.error.missing')); return; }
    enrolling = true;
    $('enroll-submit').disabled = true;
    try {
      const r = await api('/mobile/enroll', {
        method: 'POST', auth: false,
        // the language goes to the server only when chosen here: otherwise messages follow the card's
        body: { card_id: cardId.replace(/\s+/g, ''), enrollment_code: code, platform: platform(),
          language: store.get(KEY.lang) ? lang : undefined },
      });
      if (r.status === 201 || r.status === 200) {
        const linkedCard = r.data.card_id || cardId.replace(/\s+/g, '');
        const previous = store.get(KEY.device);
        if (previous && previous.card_id !== linkedCard) store.del(KEY.pings);
        store.set(KEY.device, { ...r.data, card_id: linkedCard, enrolled_at: new Date().toISOString() });
        store.del(KEY.me); store.del(KEY.messages); store.del(KEY.trackingStopped); store.set(KEY.nextPingAt, 0);
        tellServiceWorker({ type: 'clear-api-cache' });
        $('enroll-form').reset();
        $('enroll-confirm').hidden = true;
        show('home');
        await Promise.all([refreshMe(), loadAppConfig()]);
        checkPush(); // offers the alerts button
        maybePing(true);
        return;
      }
      const key = { 401: 'enroll.error.wrong_code', 403: 'enroll.error.card_ended', 404: 'enroll.error.wrong_code',
        409: 'enroll.error.card_ended', 429: 'enroll.error.throttled', 422: 'enroll.error.invalid' }[r.status];
      showEnrollError(key ? t(key) : `${t('enroll.error.server')} (${r.status})`);
    } catch (_) {
      setOnline(false);
      showEnrollError(t('enroll.error.offline'));
    } finally {
      enrolling = false;
      $('enroll-submit').disabled = false;
    }
  }

  $('enroll-form').addEventListener('submit', (event) => {
    event.preventDefault();
    enroll($('enroll-card-id').value.trim(), $('enroll-code').value.trim());
  });

  let pendingEnrollment = null;
  function askToEnroll(found) {
    pendingEnrollment = found;
    $('enroll-confirm-card').textContent = found.cardId;
    $('enroll-confirm').hidden = false;
    show('enroll');
  }
  $('enroll-confirm-yes').addEventListener('click', () => {
    if (pendingEnrollment) enroll(pendingEnrollment.cardId, pendingEnrollment.code);
  });
  $('enroll-confirm-no').addEventListener('click', () => {
    pendingEnrollment = null;
    $('enroll-confirm').hidden = true;
    if (store.get(KEY.device)) show('home');
  });

  // Camera scan: BarcodeDetector where the browser has it, jsQR on video frames everywhere else.
  // Not the staff pages' scanner (/static/web/scanner.js): this one reads the ENROLLMENT QR, keeps
  // looking past a QR that is not one (the card's signed QR, someone else's), speaks the app's twelve
  // languages through t(), has no photo or paste path (the card number and code are typed instead), and
  // lives in the offline shell the service worker caches (SHELL_ASSETS, /app's own files).
  let scanStream = null;
  let scanTimer = null;

  async function startScanner() {
    showEnrollError('');
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { showEnrollError(t('enroll.scan_unsupported')); return; }
    try {
      scanStream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (_) { showEnrollError(t('enroll.scan_denied')); return; }
    const video = $('scanner-video');
    video.srcObject = scanStream;
    $('scanner').hidden = false;
    $('scan-start').hidden = true;
    try { await video.play(); } catch (_) { /* autoplay of a muted stream is allowed; ignore */ }
    let detector = null;
    if ('BarcodeDetector' in window) {
      try { detector = new window.BarcodeDetector({ formats: ['qr_code'] }); } catch (_) { detector = null; }
    }
    const canvas = $('scanner-canvas');
    const context = canvas.getContext('2d', { willReadFrequently: true });
    const tick = async () => {
      if (!scanStream) return;
      let text = null;
      try {
        if (detector) {
          const codes = await detector.detect(video);
          text = codes.length ? codes[0].rawValue : null;
        } else if (window.jsQR && video.videoWidth) {
          canvas.width = video.videoWidth; canvas.height = video.videoHeight;
          context.drawImage(video, 0, 0, canvas.width, canvas.height);
          const image = context.getImageData(0, 0, canvas.width, canvas.height);
          const code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' });
          text = code ? code.data : null;
        }
      } catch (_) { text = null; }
      if (text) {
        const found = enrollmentFromText(text);
        if (found) { stopScanner(); enroll(found.cardId, found.code); return; }
        showEnrollError(/^[\w-]+\.[\w-]+\.[\w-]+$/.test(text) ? t('enroll.scan_wrong_qr') : t('enroll.scan_unknown_qr'));
      }
      scanTimer = setTimeout(tick, 200);
    };
    tick();
  }

  function stopScanner() {
    clearTimeout(scanTimer);
    if (scanStream) scanStream.getTracks().forEach((track) => track.stop());
    scanStream = null;
    $('scanner-video').srcObject = null;
    $('scanner').hidden = true;
    $('scan-start').hidden = false;
  }

  $('scan-start').addEventListener('click', startScanner);
  $('scan-stop').addEventListener('click', stopScanner);

  function deviceRejected() {
    // The server no longer accepts this phone's token (unlinked, or replaced by a newer enrollment).
    store.del(KEY.device);
    store.del(KEY.me);
    store.del(KEY.pings);
    forgetPush();
    toast(t('enroll.error.unlinked'));
    show('enroll');
  }

  $('unlink').addEventListener('click', (event) => {
    const button = event.currentTarget;
    if (button.dataset.armed !== '1') {
      button.dataset.armed = '1';
      button.textContent = t('settings.unlink_confirm');
      setTimeout(() => { button.dataset.armed = ''; button.textContent = t('settings.unlink'); }, 5000);
      return;
    }
    button.dataset.armed = '';
    // this card's alerts stop reaching this browser (the request takes the token before it goes)
    if (store.get(KEY.push)) api('/mobile/webpush', { method: 'DELETE' }).catch(() => {});
    forgetPush();
    [KEY.device, KEY.me, KEY.pings, KEY.messages, KEY.nextPingAt, KEY.lastSent, KEY.trackingStopped, KEY.sos]
      .forEach((k) => store.del(k));
    tellServiceWorker({ type: 'clear-api-cache' });
    show('enroll');
  });

  // ---- me / home -----------------------------------------------------------------------------
  async function loadAppConfig() {
    if (!store.get(KEY.device)) return;
    try {
      const r = await api('/mobile/app-config');
      const device = store.get(KEY.device);
      if (!r.ok || !r.data || !device) return;
      store.set(KEY.device, { ...device, card_language: r.data.language });
      // the card's language is the default until the tourist picks one
      if (!store.get(KEY.lang) && supported(r.data.language) && supported(r.data.language) !== lang) {
        await setLanguage(r.data.language);
      }
    } catch (_) { setOnline(false); }
  }

  async function refreshMe() {
    if (!store.get(KEY.device)) return;
    try {
      const r = await api('/mobile/me');
      if (r.ok && r.data) {
        store.set(KEY.me, r.data);
        renderHome();
        sendLanguage();  // a choice made offline reaches the server now
      }
    } catch (_) { setOnline(false); }
  }

  function renderHome() {
    const device = store.get(KEY.device);
    const me = store.get(KEY.me);
    const card = (me && me.card) || {};
    $('card-name').textContent = card.full_name || '';
    $('card-id').textContent = card.card_id || (device && device.card_id) || '';
    $('card-nationality').textContent = card.nationality || '';
    $('card-expires').textContent = fmtDate(card.expires_at);
    const status = card.status || '';
    $('card-status').textContent = status ? t(`status.${status}`) : '';
    $('card-status').classList.toggle('ended', !!status && status !== 'active');
    const stay = me && me.stay;
    $('stay-none').hidden = !!stay;
    $('stay-facts').hidden = !stay;
    if (stay) {
      $('stay-hotel').textContent = (stay.hotel && (stay.hotel.name || stay.hotel)) || '';
      $('stay-room').textContent = stay.room || '—';
      $('stay-checked-in').textContent = fmtTime(stay.checked_in_at);
    }
    const fix = store.get(KEY.lastFix) || (me && me.last_position);
    $('position-text').textContent = fix
      ? t('home.position_value', { lat: Number(fix.lat).toFixed(5), lon: Number(fix.lon).toFixed(5),
        acc: fix.accuracy_m ? Math.round(fix.accuracy_m) : '?' })
      : t('home.position_unknown');
    const lastSent = store.get(KEY.lastSent) || (me && me.last_position && me.last_position.recorded_at);
    $('last-sent').textContent = lastSent ? t('home.last_sent', { time: fmtTime(lastSent) }) : '';
    $('tracking-stopped').hidden = !store.get(KEY.trackingStopped);
    $('settings-card').textContent = (device && device.card_id) || card.card_id || '';
  }

  function renderQueue() {
    const pings = (store.get(KEY.pings) || []).length;
    const sos = (store.get(KEY.sos) || []).filter((s) => s.state === 'queued' || s.state === 'waiting_position').length;
    $('queue-text').textContent = pings ? t('home.queued', { count: pings }) : '';
    $('settings-queue').textContent = t('settings.waiting_value', { pings, sos });
  }

  // ---- position & pings ----------------------------------------------------------------------
  let watchId = null;

  function fixFrom(position) {
    const c = position.coords;
    const fix = { lat: c.latitude, lon: c.longitude, recorded_at: new Date(position.timestamp || Date.now()).toISOString() };
    if (Number.isFinite(c.accuracy)) fix.accuracy_m = Math.round(c.accuracy * 10) / 10;
    if (Number.isFinite(c.speed) && c.speed !== null) fix.speed_mps = c.speed;
    if (Number.isFinite(c.heading) && c.heading !== null) fix.heading_deg = c.heading;
    return fix;
  }

  function remember(fix) {
    store.set(KEY.lastFix, fix);
    renderHome();
    renderSosPosition();
    updateMapPosition();
    renderDangerAlert(); // on every tab, not only the map's
    if (screen === 'map') renderMapLists(); // distances follow the tourist
  }

  function currentFix(timeoutMs = 10000, maximumAgeMs = 30000) {
    return new Promise((resolve) => {
      if (!navigator.geolocation) { resolve(null); return; }
      const timer = setTimeout(() => resolve(null), timeoutMs + 500);
      navigator.geolocation.getCurrentPosition(
        (position) => { clearTimeout(timer); const fix = fixFrom(position); remember(fix); resolve(fix); },
        () => { clearTimeout(timer); resolve(null); },
        { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: maximumAgeMs },
      );
    });
  }

  function startWatching() {
    if (!navigator.geolocation || watchId !== null || !store.get(KEY.device)) return;
    watchId = navigator.geolocation.watchPosition(
      (position) => { remember(fixFrom(position)); maybePing(); },
      () => {},
      { enableHighAccuracy: true, maximumAge: 30000, timeout: 60000 },
    );
  }

  function stopWatching() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
  }

  let battery = null;
  if (navigator.getBattery) navigator.getBattery().then((b) => { battery = b; }).catch(() => {});

  function freshFix(maxAgeMs) {
    const fix = store.get(KEY.lastFix);
    return fix && Date.now() - new Date(fix.recorded_at).getTime() <= maxAgeMs ? fix : null;
  }

  let pinging = false;
  async function maybePing(force = false) {
    if (!store.get(KEY.device) || store.get(KEY.trackingStopped) || pinging) return;
    if (!force && Date.now() < (store.get(KEY.nextPingAt) || 0)) return;
    pinging = true;
    try {
      const fix = (!force && freshFix(60000)) || await currentFix(10000, force ? 0 : 30000);
      if (!fix) return;
      const ping = { id: uuid(), ...fix };
      if (battery && Number.isFinite(battery.level)) ping.battery_pct = Math.round(battery.level * 100);
      const queue = store.get(KEY.pings) || [];
      queue.push(ping);
      store.set(KEY.pings, queue.slice(-MAX_BUFFERED_PINGS));
      const device = store.get(KEY.device);
      // provisional: the server's next_ping_in_s replaces it once the batch is delivered
      store.set(KEY.nextPingAt, Date.now() + ((device && device.ping_interval_s) || 1800) * 1000);
      renderQueue();
    } finally {
      pinging = false;
    }
    await flushPings();
  }

  let flushingPings = false;
  let pingsRetryAt = 0; // the server asked us (Retry-After) not to send before then
  async function flushPings() {
    if (flushingPings || !store.get(KEY.device) || Date.now() < pingsRetryAt) return;
    flushingPings = true;
    try {
      for (;;) {
        const queue = store.get(KEY.pings) || [];
        if (!queue.length) break;
        const batch = queue.slice(0, BATCH);
        const r = await api('/mobile/pings', { method: 'POST', body: { pings: batch } });
        if (r.status === 200) {
          const sent = new Set(batch.map((p) => p.id));
          store.set(KEY.pings, (store.get(KEY.pings) || []).filter((p) => !sent.has(p.id)));
          store.set(KEY.lastSent, new Date().toISOString());
          if (r.data && r.data.next_ping_in_s) {
            store.set(KEY.nextPingAt, Date.now() + r.data.next_ping_in_s * 1000);
            const device = store.get(KEY.device);
            if (device) store.set(KEY.device, { ...device, ping_interval_s: r.data.next_ping_in_s });
          }
        } else if (r.status === 403) {
          // the card has ended: tracking stops (PDPA); SOS keeps working
          store.set(KEY.trackingStopped, true);
          store.del(KEY.pings);
          break;
        } else if (r.status === 422 || r.status === 400 || r.status === 413) {
          // the server can never accept this batch: drop it rather than block the ones behind it
          const bad = new Set(batch.map((p) => p.id));
          store.set(KEY.pings, (store.get(KEY.pings) || []).filter((p) => !bad.has(p.id)));
        } else {
          // 401 handled in api(); 429/5xx: try again later, and not before the server's Retry-After
          const told = retryAfterMs(r.res);
          if (told !== null) pingsRetryAt = Date.now() + Math.min(told, 10 * 60000);
          break;
        }
      }
    } catch (_) {
      setOnline(false);
    } finally {
      flushingPings = false;
      renderQueue();
      renderHome();
    }
  }

  // ---- SOS -----------------------------------------------------------------------------------
  let sosCategory = null;

  function sosList() { return store.get(KEY.sos) || []; }
  function saveSos(list) { store.set(KEY.sos, list.slice(-20)); }
  function updateSos(id, patch) {
    saveSos(sosList().map((s) => (s.id === id ? { ...s, ...patch } : s)));
  }
  function activeSos() {
    const list = sosList().filter((s) => !TERMINAL.includes(s.status) && s.state !== 'cancelled');
    return list.length ? list[list.length - 1] : null;
  }
  // The SOS the home screen shows: the open one, else one the 191 centre closed (until the
  // tourist hides it) — a panel that just disappeared left tourists wondering.
  function shownSos() {
    const open = activeSos();
    if (open) return open;
    const closed = sosList().filter((s) => s.state === 'sent' && TERMINAL.includes(s.status) && !s.dismissed
      && s.closed_by && s.closed_by !== 'tourist');
    return closed.length ? closed[closed.length - 1] : null;
  }

  $('sos-button').addEventListener('click', () => show('sos'));
  document.querySelectorAll('#sos-categories .chip').forEach((chip) => {
    chip.addEventListener('click', () => {
      sosCategory = sosCategory === chip.dataset.category ? null : chip.dataset.category;
      document.querySelectorAll('#sos-categories .chip').forEach((c) => c.setAttribute('aria-pressed', String(c.dataset.category === sosCategory)));
    });
  });

  function prepareSos() {
    renderSosPosition();
    currentFix(8000);
  }

  function renderSosPosition() {
    const fix = freshFix(5 * 60000);
    $('sos-position').textContent = fix
      ? t('home.position_value', { lat: fix.lat.toFixed(5), lon: fix.lon.toFixed(5), acc: fix.accuracy_m ? Math.round(fix.accuracy_m) : '?' })
      : t('sos.locating');
  }

  let sending = false;
  $('sos-send').addEventListener('click', async () => {
    if (sending) return;
    sending = true;
    try {
      const item = { id: uuid(), created_at: new Date().toISOString(), category: sosCategory,
        note: $('sos-note').value.trim().slice(0, 500) || null, state: 'waiting_position', attempts: 0 };
      saveSos([...sosList(), item]);
      show('home');
      renderSosStatus();
      // an SOS carries where the tourist is now: a new fix if one comes quickly, else the last known
      const fix = freshFix(10000) || await currentFix(8000, 0) || freshFix(30 * 60000) || lastKnownFromServer();
      const now = sosList().find((s) => s.id === item.id);
      if (fix && now && now.state === 'waiting_position') updateSos(item.id, { ...fix, state: 'queued' });
      sosCategory = null;
      $('sos-note').value = '';
      document.querySelectorAll('#sos-categories .chip').forEach((c) => c.setAttribute('aria-pressed', 'false'));
      renderSosStatus();
      await flushSos();
    } finally {
      sending = false;
    }
  });

  function lastKnownFromServer() {
    const me = store.get(KEY.me);
    const p = me && me.last_position;
    return p ? { lat: p.lat, lon: p.lon, recorded_at: new Date().toISOString() } : null;
  }

  let flushingSos = false;
  let sosRetryTimer = null;
  async function flushSos({ now = false } = {}) {
    if (now) saveSos(sosList().map((s) => (s.state === 'queued' ? { ...s, retry_at: null } : s)));
    if (flushingSos || !store.get(KEY.device)) return;
    flushingSos = true;
    clearTimeout(sosRetryTimer);
    let retryIn = null;
    try {
      for (const item of sosList()) {
        if (item.state === 'waiting_position') {
          const fix = freshFix(60000) || await currentFix(8000) || lastKnownFromServer();
          if (!fix) { retryIn = 5000; continue; }
          updateSos(item.id, { ...fix, state: 'queued' });
          Object.assign(item, fix, { state: 'queued' });
        }
        if (item.state !== 'queued') continue;
        if (item.retry_at && Date.now() < item.retry_at) { retryIn = Math.min(retryIn || Infinity, item.retry_at - Date.now()); continue; }
        const body = { id: item.id, lat: item.lat, lon: item.lon, recorded_at: item.recorded_at };
        if (item.accuracy_m !== undefined) body.accuracy_m = item.accuracy_m;
        if (item.category) body.category = item.category;
        if (item.note) body.note = item.note;
        let r = null;
        try {
          r = await api('/mobile/sos', { method: 'POST', body });
        } catch (_) {
          setOnline(false);
        }
        if (r && (r.status === 201 || r.status === 200)) {
          updateSos(item.id, { state: 'sent', unavailable: false, incident_id: r.data.incident_id, status: r.data.status || 'new',
            sent_at: new Date().toISOString(), updated_at: r.data.updated_at || null });
          toast(t('sos.sent_toast'));
        } else if (r && r.status >= 400 && r.status < 500 && ![401, 408, 429].includes(r.status)) {
          updateSos(item.id, { state: 'failed', error: (r.data && r.data.message) || String(r.status) });
        } else {
          // offline, timed out, throttled or a server error: the same id again, a little later —
          // when the server said when (Retry-After), then (at least 1 s, at most a minute away)
          const attempts = (item.attempts || 0) + 1;
          const told = retryAfterMs(r && r.res);
          const delay = told === null ? Math.min(30000, 1000 * 2 ** Math.min(attempts, 5))
            : Math.min(60000, Math.max(1000, told));
          // the server answered but cannot take it now (its database is away): say so, and to call
          updateSos(item.id, { attempts, retry_at: Date.now() + delay, unavailable: !!(r && r.status >= 500) });
          retryIn = Math.min(retryIn || Infinity, delay);
        }
      }
    } finally {
      flushingSos = false;
      renderSosStatus();
      if (retryIn !== null && Number.isFinite(retryIn)) sosRetryTimer = setTimeout(flushSos, retryIn);
    }
  }

  async function pollSos() {
    const item = activeSos();
    if (!item || item.state !== 'sent' || !item.incident_id) return;
    try {
      const r = await api(`/mobile/sos/${encodeURIComponent(item.incident_id)}`);
      if (r.ok && r.data) {
        if (r.data.status !== item.status) toast(t(`sos.status.${r.data.status}`));
        updateSos(item.id, { status: r.data.status, updated_at: r.data.updated_at || null, unit: r.data.unit || item.unit,
          closed_at: r.data.closed_at || null, closed_by: r.data.closed_by || null, resolution: r.data.resolution || null });
        renderSosStatus();
      }
    } catch (_) { setOnline(false); }
  }

  function renderSosStatus() {
    const item = shownSos();
    const box = $('sos-status');
    box.hidden = !item;
    if (!item) return;
    const closed = TERMINAL.includes(item.status);
    $('sos-cancel').hidden = closed;
    $('sos-dismiss').hidden = !closed;
    $('sos-status-closed').hidden = !closed;
    if (closed) {
      $('sos-status-closed-by').textContent = t(`sos.closed_by.${item.closed_by || 'dispatcher'}`, { time: fmtTime(item.closed_at) });
      $('sos-status-resolution').textContent = item.resolution ? t('sos.resolution', { text: item.resolution }) : '';
    }
    let key = item.unavailable ? 'sos.state.unavailable' : 'sos.state.queued';
    if (item.state === 'waiting_position') key = 'sos.state.waiting_position';
    else if (item.state === 'failed') key = 'sos.state.failed';
    else if (item.state === 'sent') key = `sos.status.${item.status || 'new'}`;
    box.className = `panel sos-status ${item.state === 'sent' ? item.status : item.state}`;
    box.dataset.state = item.state === 'sent' ? item.status : item.state;
    $('sos-status-title').textContent = t(key);
    $('sos-status-detail').textContent = item.state === 'failed'
      ? `${t('sos.failed_detail')} ${item.error || ''}`
      : t(`${key}_detail`) + (item.unit ? ` (${item.unit})` : '');
    $('sos-status-time').textContent = t('sos.pressed_at', { time: fmtTime(item.created_at) });
    // not with the 191 centre yet (no connection, the server cannot take it, or refused): call
    $('sos-call').hidden = item.state === 'sent';
  }

  $('sos-dismiss').addEventListener('click', () => {
    const item = shownSos();
    if (item) updateSos(item.id, { dismissed: true });
    renderSosStatus();
  });

  $('sos-cancel').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    const item = activeSos();
    if (!item) return;
    if (button.dataset.armed !== '1') {
      button.dataset.armed = '1';
      button.textContent = t('sos.cancel_confirm');
      setTimeout(() => { button.dataset.armed = ''; button.textContent = t('sos.cancel'); }, 5000);
      return;
    }
    button.dataset.armed = '';
    button.textContent = t('sos.cancel');
    if (item.state !== 'sent') {
      // never reached the server: simply forget it
      updateSos(item.id, { state: 'cancelled', status: 'cancelled' });
      renderSosStatus();
      return;
    }
    try {
      const r = await api(`/mobile/sos/${encodeURIComponent(item.incident_id)}/cancel`, { method: 'POST', body: {} });
      if (r.ok) { updateSos(item.id, { status: 'cancelled' }); toast(t('sos.status.cancelled')); }
      else toast(t('sos.cancel_failed'));
    } catch (_) { setOnline(false); toast(t('sos.cancel_offline')); }
    renderSosStatus();
  });

  // ---- safety map ----------------------------------------------------------------------------
  let map = null;
  let zonesLayer = null;
  let meMarker = null;
  let meCircle = null;
  let facilityLayer = null;

  async function loadZones() {
    const cached = store.get(KEY.zones);
    const etag = store.get(KEY.zonesEtag);
    try {
      const headers = { Accept: 'application/geo+json, application/json' };
      if (cached && etag) headers['If-None-Match'] = etag;
      const res = await fetch(`${API}/zones`, { headers, cache: 'no-store' });
      setOnline(true);
      if (res.status === 304 && cached) return cached;
      if (res.ok) {
        const data = await res.json();
        if (!store.set(KEY.zones, data)) store.del(KEY.zones);
        const tag = res.headers.get('ETag');
        if (tag) store.set(KEY.zonesEtag, tag); else store.del(KEY.zonesEtag);
        return data;
      }
    } catch (_) { setOnline(false); }
    return cached;
  }

  function zoneStyle(feature) {
    const kind = feature.properties && feature.properties.kind;
    if (kind === 'danger') return { color: '#c8102e', weight: 2, fillColor: '#c8102e', fillOpacity: 0.35 };
    if (kind === 'caution') return { color: '#e07b00', weight: 2, fillColor: '#ffb000', fillOpacity: 0.25 };
    if (kind === 'service_area') return { color: '#0b3d91', weight: 2, dashArray: '6 6', fill: false };
    return { color: '#2b6b2b', weight: 1, fillOpacity: 0.05 };
  }

  // the zone's own texts in the app's language (the seed data has every language), else English
  function zoneText(p) {
    const own = (p.translations && p.translations[lang]) || {};
    return lang === 'en' ? { description: p.description, advice: p.advice } : own;
  }
  function zoneExplanation(p) {
    const own = zoneText(p);
    const parts = [];
    if (own.description) parts.push(own.description);
    if (own.advice) parts.push(own.advice);
    if (!parts.length) {
      parts.push(t(`zone.kind.${p.kind}`));
      if (p.advice) parts.push(`(EN) ${p.advice}`);
    }
    return parts.join(' ');
  }
  function zoneName(p) {
    const own = (p.translations && p.translations[lang]) || {};
    return own.name || ((lang === 'th' && p.name_th) ? p.name_th : (p.name || ''));
  }

  function pointInRing(lon, lat, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]; const [xj, yj] = ring[j];
      if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function inGeometry(lon, lat, geometry) {
    if (!geometry) return false;
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates]
      : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
    return polygons.some((rings) => rings.length && pointInRing(lon, lat, rings[0])
      && !rings.slice(1).some((hole) => pointInRing(lon, lat, hole)));
  }

  let zonesData = null;
  let zoomControl = null;

  async function openMap() {
    if (!map && window.L) {
      map = L.map('map', { zoomControl: false, attributionControl: true }).setView(PHUKET, 10);
      // right-to-left languages get the zoom buttons on the right, where the reading starts
      zoomControl = L.control.zoom({ position: isRtl() ? 'topright' : 'topleft' }).addTo(map);
      if (CONFIG.tile_url) {
        L.tileLayer(CONFIG.tile_url, { maxZoom: 19, attribution: '&copy; OpenStreetMap contributors' }).addTo(map);
      }
      facilityLayer = L.layerGroup().addTo(map);
      seaLayer = L.layerGroup().addTo(map);
    }
    if (map) setTimeout(() => map.invalidateSize(), 50);
    zonesData = await loadZones();
    if (map && zonesData) {
      if (zonesLayer) zonesLayer.remove();
      zonesLayer = L.geoJSON(zonesData, {
        style: zoneStyle,
        onEachFeature: (feature, layer) => {
          const p = feature.properties || {};
          layer.bindPopup(() => el('div', {}, el('b', { text: zoneName(p) }), el('p', { text: zoneExplanation(p) })));
        },
      }).addTo(map);
      zonesLayer.bringToBack();
    }
    updateMapPosition(true);
    renderMapLists();
    loadSeaConditions();
    const fix = freshFix(60 * 60000) || await currentFix(8000);
    if (fix) await loadFacilities(fix);
  }

  function updateMapPosition(recentre = false) {
    if (!map) return;
    const fix = store.get(KEY.lastFix);
    if (!fix) return;
    const at = [fix.lat, fix.lon];
    if (!meMarker) {
      meCircle = L.circle(at, { radius: fix.accuracy_m || 30, color: '#0b3d91', weight: 1, fillOpacity: 0.15 }).addTo(map);
      meMarker = L.circleMarker(at, { radius: 9, color: '#fff', weight: 3, fillColor: '#0b3d91', fillOpacity: 1 }).addTo(map);
      meMarker.bindTooltip(el('span', { text: t('map.you') }));
      recentre = true;
    } else {
      meMarker.setLatLng(at);
      meCircle.setLatLng(at).setRadius(fix.accuracy_m || 30);
    }
    if (recentre) map.setView(at, 13);
    renderDangerAlert();
  }

  function renderDangerAlert() {
    const fix = store.get(KEY.device) ? store.get(KEY.lastFix) : null;
    const box = $('danger-alert');
    const features = ((zonesData || store.get(KEY.zones) || {}).features) || [];
    const inside = fix ? features.filter((f) => f.properties && ['danger', 'caution'].includes(f.properties.kind)
      && inGeometry(fix.lon, fix.lat, f.geometry)) : [];
    box.hidden = !inside.length;
    box.replaceChildren(...inside.map((f) => el('p', {},
      el('b', { text: t(f.properties.kind === 'danger' ? 'map.inside_danger' : 'map.inside_caution', { name: zoneName(f.properties) }) }),
      el('br'), document.createTextNode(zoneExplanation(f.properties)))));
  }

  // Distance from the origin to the segment a-b (metres in the local plane of the fix).
  function segmentDistance([ax, ay], [bx, by]) {
    const dx = bx - ax; const dy = by - ay;
    const length2 = dx * dx + dy * dy;
    const along = length2 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / length2)) : 0;
    return Math.hypot(ax + along * dx, ay + along * dy);
  }

  function distanceToZone(fix, geometry) {
    // 0 inside; else the distance to the nearest point of the zone's boundary (not a corner or
    // the centre: a long rip zone 730 m off is 730 m away), in a local plane around the fix
    // (equirectangular: well under 1 % off at these distances)
    if (inGeometry(fix.lon, fix.lat, geometry)) return 0;
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates || [];
    const rad = Math.PI / 180;
    const radius = 6371008.8;
    const kx = radius * rad * Math.cos(fix.lat * rad);
    const plane = ([lon, lat]) => [(lon - fix.lon) * kx, (lat - fix.lat) * radius * rad];
    let best = Infinity;
    for (const rings of polygons) {
      for (const ring of rings) {
        for (let i = 1; i < ring.length; i += 1) best = Math.min(best, segmentDistance(plane(ring[i - 1]), plane(ring[i])));
      }
    }
    return best;
  }

  function renderMapLists() {
    const fix = store.get(KEY.lastFix);
    const features = ((zonesData || store.get(KEY.zones) || {}).features || [])
      .filter((f) => f.properties && f.geometry && ['danger', 'caution'].includes(f.properties.kind))
      .map((f) => ({ ...f, distance: fix ? distanceToZone(fix, f.geometry) : null }))
      .sort((a, b) => (a.distance ?? 0) - (b.distance ?? 0));
    const box = $('zones-list');
    if (!features.length) {
      box.replaceChildren(el('p', { class: 'muted', text: zonesData || store.get(KEY.zones) ? t('map.no_zones') : t('map.zones_unavailable') }));
    } else {
      box.replaceChildren(...features.map((f) => {
        const p = f.properties;
        return el('div', { class: `item ${p.kind}`, 'data-zone-id': p.id },
          el('h3', { text: zoneName(p) }),
          el('p', { class: 'muted', text: [t(`zone.label.${p.kind}`), t(`severity.${p.severity}`),
            f.distance === 0 ? t('map.here') : (f.distance !== null ? t('map.distance', { distance: fmtDistance(f.distance) }) : '')]
            .filter(Boolean).join(' · ') }),
          el('p', { text: zoneExplanation(p) }));
      }));
    }
    renderDangerAlert();
    renderFacilities(store.get(KEY.facilities));
  }

  // ---- sea conditions (GET /api/v1/marine/conditions, public): beach flags, waves, wind ---------
  const SEA_KEY = 'pts.sea';
  const FLAG_COLOURS = { red: '#c8102e', yellow: '#f2b705', green: '#1e8a3c' };
  let seaLayer = null;

  async function loadSeaConditions() {
    renderSea(store.get(SEA_KEY));
    try {
      const res = await fetch(`${API}/marine/conditions`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
      if (!res.ok) return;
      const data = await res.json();
      const value = { stations: Array.isArray(data.stations) ? data.stations : [], at: new Date().toISOString() };
      store.set(SEA_KEY, value);
      renderSea(value);
    } catch (_) { setOnline(false); }
  }

  function seaFacts(s) {
    return [
      s.wave_height_m !== null && s.wave_height_m !== undefined ? t('sea.wave', { m: Number(s.wave_height_m).toFixed(1) }) : null,
      s.wind_speed_mps !== null && s.wind_speed_mps !== undefined ? t('sea.wind', { mps: Number(s.wind_speed_mps).toFixed(1) }) : null,
      s.gust_mps !== null && s.gust_mps !== undefined ? t('sea.gust', { mps: Number(s.gust_mps).toFixed(1) }) : null,
    ].filter(Boolean).join(' · ');
  }

  function renderSea(value) {
    const box = $('sea-conditions');
    if (!box) return;
    const stations = ((value && value.stations) || []).slice()
      .sort((a, b) => Number(Boolean(b.warning)) - Number(Boolean(a.warning)));
    if (seaLayer) seaLayer.clearLayers();
    if (!stations.length) {
      box.replaceChildren(el('p', { class: 'muted', text: value ? t('sea.none') : t('sea.unavailable') }));
      return;
    }
    box.replaceChildren(...stations.map((s) => {
      const flag = FLAG_COLOURS[s.flag] ? s.flag : null;
      const facts = seaFacts(s);
      const lines = [
        el('h3', { text: s.name || '' }),
        el('p', { class: 'sea-flag', 'data-flag': flag || 'none' },
          el('span', { class: `flag-dot flag-${flag || 'none'}`, 'aria-hidden': 'true' }),
          document.createTextNode(` ${t(`sea.flag.${flag || 'none'}`)}`)),
        facts ? el('p', { text: facts }) : null,
        s.observed_at ? el('p', { class: 'muted', text: t('sea.observed', { time: fmtTime(s.observed_at) }) }) : null,
        s.warning ? el('p', {}, el('b', { text: t('sea.warning') })) : null,
      ];
      if (seaLayer && Number.isFinite(s.lat) && Number.isFinite(s.lon)) {
        L.circleMarker([s.lat, s.lon], {
          radius: s.warning ? 11 : 8, color: s.warning ? '#c8102e' : '#ffffff', weight: s.warning ? 4 : 2,
          fillColor: flag ? FLAG_COLOURS[flag] : '#6b7785', fillOpacity: 0.95,
        }).bindPopup(() => el('div', {}, el('b', { text: s.name || '' }), el('p', { text: t(`sea.flag.${flag || 'none'}`) }),
          facts ? el('p', { text: facts }) : null, s.warning ? el('p', {}, el('b', { text: t('sea.warning') })) : null))
          .addTo(seaLayer);
      }
      return el('div', { class: `item sea${s.warning ? ' danger sea-warning' : ''}`, 'data-station-id': String(s.id) }, ...lines);
    }));
  }

  const FACILITY_KINDS = ['hospital', 'police', 'tourist_police'];

  function facilityItems(data) {
    if (!data) return [];
    const list = Array.isArray(data) ? data : (data.features || data.items || []);
    return list.map((f) => {
      const p = f.properties || f;
      const coords = f.geometry && f.geometry.coordinates;
      return { ...p, lon: coords ? coords[0] : p.lon, lat: coords ? coords[1] : p.lat };
    });
  }

  async function loadFacilities(fix) {
    const found = [];
    let anyAnswer = false;
    for (const kind of FACILITY_KINDS) {
      try {
        const q = new URLSearchParams({ lat: fix.lat.toFixed(5), lon: fix.lon.toFixed(5), kind, limit: '1' });
        const res = await fetch(`${API}/facilities?${q}`, { headers: { Accept: 'application/json' } });
        if (!res.ok) continue;
        anyAnswer = true;
        const items = facilityItems(await res.json()).filter((f) => !f.kind || f.kind === kind);
        if (items.length) found.push({ ...items[0], kind: items[0].kind || kind });
      } catch (_) { setOnline(false); }
    }
    if (anyAnswer) {
      const value = { items: found, from: { lat: fix.lat, lon: fix.lon }, at: new Date().toISOString() };
      store.set(KEY.facilities, value);
      renderFacilities(value);
    }
  }

  function directionsLinks(f, from) {
    const osm = new URL('https://www.openstreetmap.org/directions');
    osm.searchParams.set('engine', 'fossgis_osrm_car');
    osm.searchParams.set('route', `${from ? `${from.lat},${from.lon}` : ''};${f.lat},${f.lon}`);
    const geo = `geo:${f.lat},${f.lon}?q=${f.lat},${f.lon}(${encodeURIComponent(f.name || '')})`;
    return { osm: osm.toString(), geo };
  }

  function renderFacilities(value) {
    const box = $('facilities');
    const items = (value && value.items) || [];
    if (!items.length) {
      box.replaceChildren(el('p', { class: 'muted', text: t('map.facilities_unknown') }));
      return;
    }
    if (facilityLayer) facilityLayer.clearLayers();
    box.replaceChildren(...items.map((f) => {
      const links = directionsLinks(f, value.from);
      if (facilityLayer && Number.isFinite(f.lat) && Number.isFinite(f.lon)) {
        // an element, not a string: Leaflet would take the name as HTML
        L.marker([f.lat, f.lon], { title: f.name }).bindPopup(el('span', { text: f.name || '' })).addTo(facilityLayer);
      }
      const name = (lang === 'th' && f.name_th) ? f.name_th : f.name;
      return el('div', { class: 'item', 'data-facility-kind': f.kind },
        el('h3', { text: `${t(`facility.${f.kind}`)}: ${name || ''}` }),
        f.distance_m !== undefined ? el('p', { class: 'muted', text: t('map.distance', { distance: fmtDistance(f.distance_m) }) }) : null,
        el('div', { class: 'actions' },
          el('a', { class: 'btn primary', href: links.osm, target: '_blank', rel: 'noopener', text: t('map.directions') }),
          el('a', { class: 'btn', href: links.geo, text: t('map.open_in_maps') }),
          f.phone ? el('a', { class: 'btn', href: `tel:${String(f.phone).replace(/[^+\d]/g, '')}`, text: `${t('map.call')} ${f.phone}` }) : null));
    }));
  }

  // ---- inbox ---------------------------------------------------------------------------------
  function messageItems(data) {
    if (!data) return [];
    const list = Array.isArray(data) ? data : (data.items || data.messages || []);
    return list;
  }

  async function loadInbox({ quiet = false } = {}) {
    if (!store.get(KEY.device)) return;
    if (!quiet && !store.get(KEY.messages)) $('inbox-state').textContent = t('inbox.loading');
    try {
      const r = await api('/mobile/messages');
      if (r.status === 404) { store.set(KEY.messages, { unavailable: true }); }
      else if (r.ok) store.set(KEY.messages, { items: messageItems(r.data), at: new Date().toISOString() });
    } catch (_) { setOnline(false); }
    if (screen === 'inbox') {
      renderInbox(store.get(KEY.messages));
      const items = messageItems(store.get(KEY.messages));
      if (items.length) store.set(KEY.inboxSeen, items.map(messageId));
    }
    renderInboxBadge();
  }

  const messageId = (m) => String(m.id || m.message_id || `${m.created_at}|${m.title || m.headline}`);
  const messageTitle = (m) => m.title || m.headline || (m.kind ? t(`inbox.kind.${m.kind}`) : t('inbox.message'));
  const messageBody = (m) => m.body || m.message || m.text || m.description || '';

  function renderInbox(value) {
    const list = $('inbox-list');
    if (!value) { $('inbox-state').textContent = online ? '' : t('inbox.offline'); list.replaceChildren(); return; }
    if (value.unavailable) { $('inbox-state').textContent = t('inbox.unavailable'); list.replaceChildren(); return; }
    const items = messageItems(value);
    $('inbox-state').textContent = items.length ? (online ? '' : t('inbox.offline')) : t('inbox.empty');
    list.replaceChildren(...items.map((m) => el('article', {
      class: `item${m.severity ? ` severity-${String(m.severity).toLowerCase()}` : ''}`, 'data-message-id': messageId(m),
    },
    el('h3', { text: messageTitle(m) }),
    el('p', { class: 'muted', text: [fmtTime(m.created_at || m.sent_at), m.severity ? t(`cap.${String(m.severity).toLowerCase()}`) : '']
      .filter(Boolean).join(' · ') }),
    el('p', { text: messageBody(m) }))));
    highlightMessage();
  }

  // A tapped notification of a broadcast opens the inbox at that message.
  let wantedMessage = null;
  function highlightMessage() {
    if (!wantedMessage) return;
    const item = [...document.querySelectorAll('#inbox-list [data-message-id]')]
      .find((node) => node.dataset.messageId === wantedMessage);
    if (!item) return;
    wantedMessage = null;
    document.querySelectorAll('#inbox-list .highlight').forEach((node) => node.classList.remove('highlight'));
    item.classList.add('highlight');
    item.scrollIntoView({ block: 'center' });
  }

  function renderInboxBadge() {
    const seen = new Set(store.get(KEY.inboxSeen) || []);
    const unseen = messageItems(store.get(KEY.messages)).some((m) => !seen.has(messageId(m)));
    $('inbox-badge').hidden = !unseen || screen === 'inbox';
  }

  // ---- background tracking set-up ------------------------------------------------------------
  let setupLinks = null;

  async function loadSetupLinks() {
    if (!store.get(KEY.device)) return;
    $('setup-state').textContent = setupLinks ? '' : t('settings.loading');
    try {
      const r = await api('/mobile/setup-links');
      if (r.ok) setupLinks = r.data;
      else if (r.status === 403) { setupLinks = null; $('setup-state').textContent = t('settings.setup_ended'); }
    } catch (_) {
      setOnline(false);
      if (!setupLinks) $('setup-state').textContent = t('settings.setup_offline');
    }
    renderSetupLinks();
  }

  function renderSetupLinks() {
    $('setup-traccar').hidden = !setupLinks;
    $('setup-owntracks').hidden = !setupLinks;
    if (!setupLinks) return;
    $('setup-state').textContent = '';
    const tc = setupLinks.traccar_client;
    $('setup-traccar-link').href = tc.link;
    $('setup-traccar-qr').src = tc.qr_png;
    $('setup-traccar-url').textContent = tc.server_url;
    $('setup-traccar-id').textContent = tc.device_identifier;
    const ot = setupLinks.owntracks;
    $('setup-owntracks-link').href = ot.link;
    $('setup-owntracks-qr').src = ot.qr_png;
    $('setup-owntracks-url').textContent = ot.url;
    $('setup-owntracks-user').textContent = ot.username;
  }

  // ---- Web Push ------------------------------------------------------------------------------
  // After enrollment the tourist is asked (a button, never on page load) to allow alerts; the
  // browser's subscription, made with the server's VAPID key, goes to PUT /mobile/webpush. On
  // every start the subscription is checked again and sent when it changed (a rotated one, a new
  // server key, another card). The service worker shows the pushes and re-subscribes on
  // pushsubscriptionchange with the token it finds under PUSH_CREDENTIAL.
  const PUSH_CACHE = 'pts-push';
  const PUSH_CREDENTIAL = '/app/push-credential';
  let pushState = 'unknown'; // unknown | off | on | denied | unsupported | failed | working

  const pushSupported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

  function keyBytes(text) {
    const b64 = String(text).replace(/-/g, '+').replace(/_/g, '/');
    const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function keyText(buffer) {
    if (!buffer) return null;
    let raw = '';
    new Uint8Array(buffer).forEach((b) => { raw += String.fromCharCode(b); });
    return btoa(raw).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  async function keepPushCredential(token) {
    if (!('caches' in window)) return;
    const cache = await caches.open(PUSH_CACHE);
    if (token) {
      await cache.put(PUSH_CREDENTIAL, new Response(JSON.stringify({ device_token: token }),
        { headers: { 'Content-Type': 'application/json' } }));
    } else await cache.delete(PUSH_CREDENTIAL);
  }

  function forgetPush() {
    store.del(KEY.push);
    keepPushCredential(null).catch(() => {});
    if (!pushSupported()) return;
    navigator.serviceWorker.getRegistration('/app')
      .then((registration) => registration && registration.pushManager.getSubscription())
      .then((subscription) => subscription && subscription.unsubscribe())
      .catch(() => {});
  }

  async function subscribePush() {
    const device = store.get(KEY.device);
    if (!device) return false;
    const answer = await api('/mobile/webpush/key', { auth: false });
    const key = answer.ok && answer.data ? answer.data.public_key : null;
    if (!key) return false;
    const registration = await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && keyText(subscription.options && subscription.options.applicationServerKey) !== key) {
      await subscription.unsubscribe(); // made with another server key: useless now
      subscription = null;
    }
    if (!subscription) {
      subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
    }
    const sent = store.get(KEY.push);
    if (sent && sent.endpoint === subscription.endpoint && sent.key === key && sent.device_id === device.device_id) return true;
    const json = subscription.toJSON();
    const r = await api('/mobile/webpush', { method: 'PUT', body: { endpoint: json.endpoint, keys: json.keys } });
    if (!r.ok) return false;
    store.set(KEY.push, { endpoint: json.endpoint, key, device_id: device.device_id, at: new Date().toISOString() });
    await keepPushCredential(device.device_token);
    return true;
  }

  async function turnOnPush(ask) {
    if (!store.get(KEY.device)) { pushState = 'off'; renderPush(); return; }
    if (!pushSupported()) { pushState = 'unsupported'; renderPush(); return; }
    let permission = Notification.permission;
    // the first subscription of this phone is the tourist's own choice (the button); after that
    // it is kept up to date on every start
    if (!ask && !store.get(KEY.push)) { pushState = permission === 'denied' ? 'denied' : 'off'; renderPush(); return; }
    if (permission === 'default' && ask) {
      pushState = 'working';
      renderPush();
      permission = await Notification.requestPermission();
    }
    if (permission !== 'granted') { pushState = permission === 'denied' ? 'denied' : 'off'; renderPush(); return; }
    try { pushState = (await subscribePush()) ? 'on' : 'failed'; } catch (_) { pushState = 'failed'; }
    renderPush();
  }

  function checkPush() { return turnOnPush(false); }

  function renderPush() {
    const box = $('push-panel');
    box.dataset.state = pushState;
    box.hidden = !store.get(KEY.device) || ['unknown', 'on'].includes(pushState);
    const text = { denied: 'push.denied', unsupported: 'push.unsupported', failed: 'push.failed' }[pushState] || 'push.reason';
    $('push-reason').textContent = t(text);
    $('push-enable').hidden = !['off', 'failed', 'working'].includes(pushState);
    $('push-enable').disabled = pushState === 'working';
  }

  $('push-enable').addEventListener('click', () => turnOnPush(true));

  // Where a tapped notification (or a link) leads: #sos-<incident>, #message-<id>, or a screen.
  function route(hash) {
    const target = String(hash || '').replace(/^#/, '');
    if (!store.get(KEY.device) || !target) return false;
    let match = /^sos-(\d+)$/.exec(target);
    if (match) {
      const incidentId = Number(match[1]);
      if (!sosList().some((s) => s.incident_id === incidentId)) {
        // an SOS raised from another of the card's phones: follow it here too
        saveSos([...sosList(), { id: uuid(), incident_id: incidentId, state: 'sent', status: 'new',
          created_at: new Date().toISOString() }]);
      } else {
        saveSos(sosList().map((s) => (s.incident_id === incidentId ? { ...s, dismissed: false } : s)));
      }
      show('home');
      renderSosStatus();
      pollSos();
      return true;
    }
    match = /^message-(\d+)$/.exec(target);
    if (match) {
      wantedMessage = match[1];
      show('inbox');
      highlightMessage();
      return true;
    }
    if (['home', 'sos', 'map', 'inbox', 'settings'].includes(target)) { show(target); return true; }
    return false;
  }

  window.addEventListener('hashchange', () => {
    if (route(location.hash)) history.replaceState(null, '', location.pathname + location.search);
  });

  // ---- service worker ------------------------------------------------------------------------
  function tellServiceWorker(message) {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage(message);
  }

  function registerServiceWorker() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.register('/app/sw.js', { scope: '/app' }).catch(() => {});
    navigator.serviceWorker.addEventListener('message', (event) => {
      // a notification was tapped while the app was open: go to its screen
      if (event.data && event.data.type === 'navigate') route(new URL(event.data.url, location.href).hash);
    });
  }

  // ---- the loop ------------------------------------------------------------------------------
  function flushAll() {
    flushSos({ now: true });
    flushPings();
  }

  let tickCount = 0;
  function tick() {
    if (document.visibilityState !== 'visible' || !store.get(KEY.device)) return;
    tickCount += 1;
    flushSos();
    maybePing();
    flushPings();
    pollSos();
    if (tickCount % 12 === 0) { refreshMe(); loadInbox({ quiet: true }); }
  }

  window.addEventListener('online', () => { setOnline(true); renderNet(); flushAll(); refreshMe(); });
  window.addEventListener('offline', () => { setOnline(false); renderNet(); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') { startWatching(); tick(); } else stopWatching();
  });
  window.addEventListener('storage', (event) => { if (Object.values(KEY).includes(event.key)) renderAll(); });

  async function start() {
    registerServiceWorker();
    await setLanguage(initialLanguage());
    const hash = location.hash.replace(/^#/, '');
    const fromLink = enrollmentFromText(location.hash);
    if (hash) history.replaceState(null, '', location.pathname + location.search);
    if (fromLink) {
      askToEnroll(fromLink);
    } else if (!store.get(KEY.device)) {
      show('enroll');
    } else if (!route(hash)) {
      show('home');
    }
    loadZones().then((zones) => { if (zones) zonesData = zonesData || zones; renderDangerAlert(); });
    if (store.get(KEY.device)) {
      checkPush();
      startWatching();
      refreshMe();
      loadAppConfig();
      loadInbox({ quiet: true });
      flushAll();
      maybePing();
    }
    setInterval(tick, 5000);
    window.PTS = { flushAll, maybePing, version: CONFIG.version };
  }

  start();
})();
