/* Service worker of the Phuket Tourist Safety companion app (scope /app).
 *
 * - The app shell (page, scripts, styles, translations, icons, Leaflet, jsQR) is kept in a cache
 *   named after this release, so the app opens with no network; a new release replaces it.
 * - Zones, the tourist's own card (/me) and inbox: network first, the last good answer when
 *   offline. Zones are also fetched at install so the safety map works offline from the start.
 * - Nothing but GET is ever touched: SOS, pings and enrollment always go to the network
 *   (the page queues them itself and retries with the same ids).
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
