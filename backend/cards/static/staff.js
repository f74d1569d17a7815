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
