/* Staff session helpers for the card pages: the access token lives in sessionStorage only. */
"use strict";

const Staff = (() => {
  const KEY = "pts.staff";

  function session() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }

  function save(grant) { sessionStorage.setItem(KEY, JSON.stringify(grant)); }

  function clear() { sessionStorage.removeItem(KEY); }

  async function signIn(username, password) {
    const response = await fetch("/api/v1/auth/login", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username, password}),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(body.message || response.statusText), {status: response.status, body});
    const grant = {token: body.access_token, role: body.role, username: body.username || username,
                   expiresAt: Date.now() + body.expires_in * 1000};
    save(grant);
    return grant;
  }

  /** fetch() with the staff token; throws an Error with status and body for non-2xx answers. */
  async function api(path, {method = "GET", json, accept} = {}) {
    const grant = session();
    const headers = {};
    if (grant) headers.Authorization = "Bearer " + grant.token;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    if (accept) headers.Accept = accept;
    const response = await fetch(path, {method, headers, body: json === undefined ? undefined : JSON.stringify(json)});
    if (response.status === 401) clear();
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw Object.assign(new Error(body.message || response.statusText), {status: response.status, body});
    }
    return response;
  }

  return {session, clear, signIn, api};
})();

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
