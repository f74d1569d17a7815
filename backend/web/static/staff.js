/* The staff pages' one session, API client and sign-in form (console, hotel desk, checkpoint, card
 * print, boat operators, the console's broadcast composer). Served once, at /static/web/staff.js, by the shared
 * web blueprint (backend/web): same-origin script, so every page's Content-Security-Policy is unchanged.
 *
 *   const session = StaffSession.open("pts.hotel", { onExpired: (message) => … });
 *   await session.signIn(username, password, { roles: ["hotel_manager", "admin"], refused: "…" });
 *   const { status, data } = await session.api("GET", "/api/v1/hotels/7");
 *   session.signOut();
 *
 * - The grant {token, role, username, hotelId, expiresAt} lives in sessionStorage under the page's key
 *   only (never localStorage); grant() drops an expired one, api() still sends it so that the server's
 *   401 ends the session the one way.
 * - api(method, path, body, {accept}) sends the bearer token, JSON-encodes `body`, and resolves to
 *   {status, data, response}: `data` is the parsed JSON (null for an empty or non-JSON answer, whose
 *   unread `response` the caller may read, e.g. an SVG).
 * - Every failure rejects with one error type, StaffSession.ApiError {status, code, message, errors,
 *   body, retryAfter, detail}: the contract's error shape {code, message, errors?}; `detail` is the
 *   message followed by the field errors ("… — lat: Must be …"); status 0 is no connection.
 * - A 401 to a signed-in session drops the grant and calls onExpired(message): sign in again.
 *   A 503 (the database is briefly lost) names its Retry-After in the message.
 *
 * The pages' one sign-in form is the partial web/templates/web/signin_form.html, and one function wires it:
 *
 *   const signin = StaffSession.signInForm(session, {
 *     roles: ["hotel_manager", "admin"], refused: "…",   // as signIn; the checkpoint serves every role
 *     onSubmit: () => …,                                  // optional: in the click's gesture, before the request
 *     onSignedIn: async (grant) => …,                     // show the page; a failure here ends the session
 *     onSignedOut: () => …,                               // clear the page, show its sign-in box (#signin)
 *   });
 *   signin.signOut(message);  // the one way out: the sign-out button (#sign-out), an expired session, a refusal
 *
 * While the request runs the submit button is disabled; a failure is said under the form (#signin-error):
 * a wrong password and too many attempts in the page's languages (<html lang="th">: Thai first), anything
 * else as the server's message (e.g. the page's `refused`).
 *
 * And the pages' element builder (text only, never markup: data goes in with textContent):
 *
 *   const { el, bilingual } = StaffSession;
 *   el("button", { type: "button", class: "result", "data-card-id": id, text: "…" }, child, "text", …);
 *   bilingual(["At sea", "อยู่ในทะเล"], "badge");  // <span class="badge">At sea <span class="th" lang="th">…</span></span>
 *
 * `class` and `text` are the class name and the text; a name with a dash (data-…, aria-…), `href` and
 * anything the element has no property of are attributes; the rest are properties (value, type, hidden,
 * disabled: false is false). Null and undefined children are skipped. The console keeps its own
 * elem(tag, attrs, [children]), the shape window.pts.el promises to boats.js.
 *
 * The tourist app (mobile_api/webapp/static/app.js) keeps its own client: a device token in
 * localStorage, an offline queue and request timeouts, none of which a staff page has.
 */
(function () {
  "use strict";

  var EXPIRED = "Your session has ended; please sign in again. / กรุณาเข้าสู่ระบบอีกครั้ง";
  var OFFLINE = "No connection to the server. / ไม่สามารถเชื่อมต่อเซิร์ฟเวอร์";

  function fieldErrors(errors) {  // ["lat: Must be …", …] from marshmallow's nested errors object
    var parts = [];
    (function walk(prefix, value) {
      if (Array.isArray(value)) parts.push((prefix ? prefix + ": " : "") + value.join(" "));
      else if (value && typeof value === "object") {
        Object.keys(value).forEach(function (k) {
          walk(k === "json" || k === "query" || k === "form" ? prefix : (prefix ? prefix + "." + k : k), value[k]);
        });
      } else if (value) parts.push((prefix ? prefix + ": " : "") + value);
    })("", errors);
    return parts;
  }

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      var message = (body && body.message) || (status ? "HTTP " + status : OFFLINE);
      if (status === 503 && retryAfter) {
        message += " — try again in " + retryAfter + " s / ลองใหม่อีกครั้งใน " + retryAfter + " วินาที";
      }
      super(message);
      this.name = "ApiError";
      this.status = status;
      this.body = body || null;
      this.code = (body && body.code) || null;
      this.errors = (body && body.errors) || null;
      this.retryAfter = retryAfter ? Number(retryAfter) : null;
      var parts = fieldErrors(this.errors);
      this.detail = parts.length ? message + " — " + parts.join("; ") : message;
    }
  }

  function open(key, options) {
    var onExpired = (options && options.onExpired) || null;

    function stored() {
      var value = null;
      try { value = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { value = null; }
      return value && value.token ? value : null;
    }
    function grant() {  // the signed-in grant, or null (an expired one is dropped)
      var value = stored();
      if (value && value.expiresAt && value.expiresAt <= Date.now()) { sessionStorage.removeItem(key); return null; }
      return value;
    }
    function save(value) { sessionStorage.setItem(key, JSON.stringify(value)); return value; }
    function signOut() { sessionStorage.removeItem(key); }
    function token() { var g = grant(); return g ? g.token : null; }

    async function request(method, path, body, opts) {
      var headers = { Accept: (opts && opts.accept) || "application/json" };
      var held = stored();  // even past its expiry: the server's 401 then ends the session (onExpired)
      var bearer = held ? held.token : null;
      if (bearer) headers.Authorization = "Bearer " + bearer;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      var response;
      try {
        response = await fetch(path, { method: method, headers: headers,
                                       body: body === undefined ? undefined : JSON.stringify(body) });
      } catch (e) {
        throw new ApiError(0, { message: OFFLINE });
      }
      var json = /json/.test(response.headers.get("Content-Type") || "");
      if (!response.ok) {
        var problem = json ? await response.json().catch(function () { return null; }) : null;
        if (response.status === 401 && bearer) {
          signOut();
          if (onExpired) onExpired(EXPIRED);
        }
        throw new ApiError(response.status, problem, response.headers.get("Retry-After"));
      }
      var data = json ? await response.json().catch(function () { return null; }) : null;
      return { status: response.status, data: data, response: response };
    }

    /** Signs in; `roles` (optional) are the roles this page serves, `refused` the message for others. */
    async function signIn(username, password, opts) {
      signOut();
      var answer = await request("POST", "/api/v1/auth/login", { username: username, password: password });
      var d = answer.data || {};
      if (opts && opts.roles && opts.roles.indexOf(d.role) < 0) {
        throw new ApiError(403, { code: "forbidden", message: opts.refused || "This page is not for your role." });
      }
      return save({ token: d.access_token, role: d.role, username: d.username || username,
                    hotelId: d.hotel_id === undefined ? null : d.hotel_id,
                    expiresAt: d.expires_in ? Date.now() + d.expires_in * 1000 : null });
    }

    return {
      key: key, grant: grant, token: token, signIn: signIn, signOut: signOut, api: request,
      update: function (changes) { var g = grant(); return g ? save(Object.assign(g, changes)) : null; },
      onExpired: function (fn) { onExpired = fn; },
    };
  }

  function el(tag, attrs, ...children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.indexOf("-") >= 0 || name === "href" || !(name in node)) node.setAttribute(name, value);
      else node[name] = value;
    });
    children.forEach(function (child) { if (child !== null && child !== undefined) node.append(child); });
    return node;
  }
  function bilingual(pair, cls) {  // ["English", "ไทย"] → English, then the Thai muted (.th)
    return el("span", { class: cls || "" }, pair[0], " ", el("span", { class: "th", lang: "th", text: pair[1] }));
  }

  var WRONG_PASSWORD = ["Wrong username or password.", "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"];
  var TOO_MANY = ["Too many attempts; wait a few minutes.", "ลองหลายครั้งเกินไป กรุณารอสักครู่"];

  function inPageLanguages(pair) {  // the console is Thai first (<html lang="th">), the other pages English first
    return document.documentElement.lang === "th" ? pair[1] + " · " + pair[0] : pair[0] + " / " + pair[1];
  }

  /** Wires the page's sign-in form (web/signin_form.html) and sign-out button to `session`; see the header. */
  function signInForm(session, options) {
    var form = document.getElementById("signin-form");
    var button = document.getElementById("signin-button");
    var line = document.getElementById("signin-error");

    function error(message) { line.textContent = message || ""; line.hidden = !message; }
    function signOut(message) {
      session.signOut();
      if (options.onSignedOut) options.onSignedOut();
      error(message);
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (options.onSubmit) options.onSubmit();
      error("");
      button.disabled = true;
      var answered = false;  // a 401 from the login itself is a wrong password; a later one, an ended session
      try {
        var grant = await session.signIn(form.elements.username.value.trim(), form.elements.password.value,
                                         { roles: options.roles, refused: options.refused });
        answered = true;
        form.elements.password.value = "";
        await options.onSignedIn(grant);
      } catch (err) {
        signOut(err.status === 401 && !answered ? inPageLanguages(WRONG_PASSWORD)
          : err.status === 429 ? inPageLanguages(TOO_MANY)
          : err.message);
      } finally {
        button.disabled = false;
      }
    });
    var out = document.getElementById("sign-out");
    if (out) out.addEventListener("click", function () { signOut(); });
    return { signOut: signOut, error: error };
  }

  window.StaffSession = { open: open, signInForm: signInForm, ApiError: ApiError, fieldErrors: fieldErrors,
                         el: el, bilingual: bilingual };
})();
