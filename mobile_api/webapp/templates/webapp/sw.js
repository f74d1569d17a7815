/* Service worker of the Phuket Tourist Safety companion app (scope /app).
 *
 * - The app shell (page, scripts, styles, translations, icons, Leaflet, jsQR) is kept in a cache
 *   named after this release, so the app opens with no network; a new release replaces it.
 * - Zones, the tourist's own card (/me) and inbox: network first, the last good answer when
 *   offline. Zones are also fetched at install so the safety map works offline from the start.
 * - Nothing but GET is ever touched: SOS, pings and enrollment always go to the network
 *   (the page queues them itself and retries with the same ids).
 * - Web Push: a push (JSON {title, body, url, kind, incident_id?, broadcast_id?}, already in the
 *   tourist's language) is shown as a notification; a tap focuses the app (or opens it) on the
 *   right screen; a rotated subscription (pushsubscriptionchange) is sent to the server with the
 *   device token the page keeps in the pts-push cache.
 */
const VERSION = '{{ version }}';
const SHELL_CACHE = `pts-shell-${VERSION}`;
const API_CACHE = 'pts-api';
const SHELL = {{ shell|tojson }};
const API_WITH_FALLBACK = ['/api/v1/zones', '/api/v1/mobile/me', '/api/v1/mobile/messages'];
const NAVIGATION_TIMEOUT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
    try {
      const zones = await fetch('/api/v1/zones', { cache: 'no-store' });
      if (zones.ok) await (await caches.open(API_CACHE)).put('/api/v1/zones', zones);
    } catch (_) { /* the page fetches them again */ }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keys = await caches.keys();
    await Promise.all(keys.filter((k) => k.startsWith('pts-shell-') && k !== SHELL_CACHE).map((k) => caches.delete(k)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  // sent when the phone is linked to another card or unlinked: forget the old card's data
  if (event.data && event.data.type === 'clear-api-cache') {
    event.waitUntil((async () => {
      const cache = await caches.open(API_CACHE);
      await cache.delete('/api/v1/mobile/me');
      await cache.delete('/api/v1/mobile/messages');
    })());
  }
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error) => { clearTimeout(timer); reject(error); });
  });
}

async function navigation(request) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await withTimeout(fetch(request), NAVIGATION_TIMEOUT_MS);
    if (response.ok) await cache.put('/app', response.clone());
    return response;
  } catch (_) {
    return (await cache.match('/app')) || Response.error();
  }
}

async function networkFirst(request, key) {
  const cache = await caches.open(API_CACHE);
  try {
    const response = await fetch(request);
    if (response.status === 200) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key, { ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return; // map tiles: left to the browser
  const path = url.pathname;
  if (request.mode === 'navigate') {
    if (path === '/app' || path === '/app/') event.respondWith(navigation(request));
    return;
  }
  if (API_WITH_FALLBACK.includes(path)) {
    event.respondWith(networkFirst(request, path));
    return;
  }
  if (path === '/app/manifest.webmanifest' || path.startsWith('/app/static/') || path.startsWith('/app/icons/')
      || path.startsWith('/vendor/')) {
    event.respondWith(cacheFirst(request));
  }
});

// ---- Web Push ----------------------------------------------------------------------------------
const PUSH_CACHE = 'pts-push';
const PUSH_CREDENTIAL = '/app/push-credential';
const RIGHT_TO_LEFT = ['ar', 'he'];

// Only screens of this app are opened from a notification.
function appUrl(url) {
  try {
    const target = new URL(url || '/app', self.location.origin);
    if (target.origin === self.location.origin && (target.pathname === '/app' || target.pathname === '/app/')) {
      return `/app${target.hash}`;
    }
  } catch (_) { /* fall through */ }
  return '/app';
}

self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (_) {
    message = { body: event.data ? event.data.text() : '' };
  }
  const tag = message.incident_id ? `incident-${message.incident_id}`
    : message.broadcast_id ? `broadcast-${message.broadcast_id}` : (message.message_id ? `message-${message.message_id}` : '');
  const options = {
    body: message.body || '',
    icon: '/app/icons/icon-192.png',
    badge: '/app/icons/icon-192.png',
    lang: message.language || '',
    dir: RIGHT_TO_LEFT.includes(message.language) ? 'rtl' : 'auto',
    data: { url: appUrl(message.url), kind: message.kind || null, incident_id: message.incident_id || null,
      broadcast_id: message.broadcast_id || null },
  };
  if (tag) { options.tag = tag; options.renotify = true; } // a newer SOS update replaces the older one
  event.waitUntil(self.registration.showNotification(message.title || 'Phuket Tourist Safety', options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = appUrl(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((client) => new URL(client.url).pathname.replace(/\/$/, '') === '/app');
    if (open) {
      await open.focus();
      open.postMessage({ type: 'navigate', url });
      return;
    }
    await self.clients.openWindow(url);
  })());
});

function keyBytes(text) {
  const b64 = String(text).replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil((async () => {
    const stored = await (await caches.open(PUSH_CACHE)).match(PUSH_CREDENTIAL);
    if (!stored) return; // not enrolled (or unlinked): nothing to re-subscribe
    const { device_token: token } = await stored.json();
    let subscription = event.newSubscription;
    if (!subscription) {
      const answer = await fetch('/api/v1/mobile/webpush/key', { cache: 'no-store' });
      const { public_key: key } = await answer.json();
      subscription = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
    }
    const json = subscription.toJSON();
    await fetch('/api/v1/mobile/webpush', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ endpoint: json.endpoint, keys: json.keys }),
    });
    // the page compares on its next start and sends it again if this did not get through
  })());
});
