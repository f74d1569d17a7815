/* Safety broadcasts for the 191 console: compose (draw a polygon on the map or pick a zone)
 * and send; the broadcasts in force drawn on the map and listed, with their CAP documents.
 *
 *   PTSBroadcasts.mount({map, getToken, container})
 *
 * `map` is the console's Leaflet map, `getToken()` returns the dispatcher's access token and
 * `container` is the element the panel is built in. Mounting again (after a new sign-in)
 * rebuilds the panel. Every text from the server is inserted as text, never as HTML.
 */
(function () {
  "use strict";

  var SEVERITIES = [["Extreme", "ร้ายแรงที่สุด"], ["Severe", "รุนแรง"], ["Moderate", "ปานกลาง"], ["Minor", "เล็กน้อย"]];
  var URGENCIES = [["Immediate", "ทันที"], ["Expected", "คาดว่าจะเกิด"], ["Future", "อนาคต"], ["Past", "ผ่านไปแล้ว"],
                   ["Unknown", "ไม่ทราบ"]];
  var EXPIRY_HOURS = [["", "ไม่กำหนด · none"], ["1", "1 h"], ["3", "3 h"], ["6", "6 h"], ["12", "12 h"],
                      ["24", "24 h"], ["72", "3 d"]];
  var COLORS = { Extreme: "#7b0000", Severe: "#d7301f", Moderate: "#f08c00", Minor: "#1971c2" };
  var REFRESH_MS = 60000;
  var mounted = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "class") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function field(label, input) {
    return el("label", { class: "ptsb-field" }, [el("span", { text: label }), input]);
  }

  function select(name, options, value) {
    var node = el("select", { name: name });
    options.forEach(function (o) {
      var option = el("option", { value: o[0], text: o[1] === o[0] || !o[1] ? o[0] : o[0] + " · " + o[1] });
      if (o[0] === value) option.selected = true;
      node.appendChild(option);
    });
    return node;
  }

  // The panel's styles are a file of this origin: the pages' Content-Security-Policy allows no inline style.
  function injectStyle() {
    if (document.getElementById("ptsb-style")) return;
    document.head.appendChild(el("link", { id: "ptsb-style", rel: "stylesheet", href: "/static/notifications/broadcasts.css" }));
  }

  function mount(options) {
    if (!options || !options.map || !options.container || typeof options.getToken !== "function") {
      throw new Error("PTSBroadcasts.mount needs {map, getToken, container}");
    }
    if (mounted) mounted.destroy();
    mounted = new Panel(options.map, options.getToken, options.container);
    return mounted;
  }

  function Panel(map, getToken, container) {
    var self = this;
    this.map = map;
    this.getToken = getToken;
    this.container = container;
    this.vertices = [];
    this.drawing = false;
    this.zoneId = null;
    this.activeLayer = L.layerGroup().addTo(map);
    this.draftLayer = L.layerGroup().addTo(map);
    this.onMapClick = function (e) { self.addVertex(e.latlng); };
    injectStyle();
    this.build();
    this.loadZones();
    this.refresh();
    this.timer = setInterval(function () { self.refresh(); }, REFRESH_MS);
  }

  Panel.prototype.destroy = function () {
    clearInterval(this.timer);
    this.stopDrawing();
    this.map.removeLayer(this.activeLayer);
    this.map.removeLayer(this.draftLayer);
    this.container.textContent = "";
  };

  Panel.prototype.api = function (method, path, body) {
    var headers = { "Accept": "application/json" };
    var token = this.getToken();
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (data) { return { status: res.status, data: data }; });
      });
  };

  Panel.prototype.build = function () {
    var self = this;
    var f = this.form = {
      headline: el("input", { name: "headline", maxlength: "200", required: "required" }),
      message: el("textarea", { name: "message", maxlength: "4000", required: "required" }),
      instruction: el("textarea", { name: "instruction", maxlength: "2000" }),
      headlineTh: el("input", { name: "headline_th", maxlength: "200", lang: "th" }),
      messageTh: el("textarea", { name: "message_th", maxlength: "4000", lang: "th" }),
      severity: select("severity", SEVERITIES, "Severe"),
      urgency: select("urgency", URGENCIES, "Immediate"),
      expires: select("expires", EXPIRY_HOURS, "6"),
      zone: select("zone", [["", "— เลือกเขต · pick a zone —"]], "")
    };
    this.drawButton = el("button", { type: "button", class: "ptsb-draw", text: "วาดพื้นที่ · Draw area" });
    this.clearButton = el("button", { type: "button", class: "ptsb-clear", text: "ล้าง · Clear" });
    this.areaInfo = el("div", { class: "ptsb-area-info meta", text: "ยังไม่ได้เลือกพื้นที่ · No area yet" });
    this.status = el("div", { class: "ptsb-status", role: "status" });
    this.list = el("ul", { class: "ptsb-list" });
    this.sendButton = el("button", { type: "submit", class: "ptsb-send", text: "ส่งประกาศ · Send broadcast" });
    var form = el("form", { class: "ptsb-form", novalidate: "novalidate" }, [
      el("div", { class: "ptsb-area" }, [this.drawButton, this.clearButton]),
      field("หรือเขต · or a zone", f.zone),
      this.areaInfo,
      field("หัวข้อ · Headline (EN)", f.headline),
      field("ข้อความ · Message (EN)", f.message),
      field("สิ่งที่ควรทำ · What to do (optional)", f.instruction),
      el("details", { class: "ptsb-th" }, [el("summary", { text: "ภาษาไทย · Thai text (optional)" }),
        field("หัวข้อ · Headline (TH)", f.headlineTh), field("ข้อความ · Message (TH)", f.messageTh)]),
      el("div", { class: "ptsb-row" }, [field("ความรุนแรง · Severity", f.severity),
        field("ความเร่งด่วน · Urgency", f.urgency)]),
      field("หมดอายุใน · Expires in", f.expires),
      this.sendButton,
      this.status
    ]);
    form.addEventListener("submit", function (e) { e.preventDefault(); self.send(); });
    this.drawButton.addEventListener("click", function () {
      if (self.drawing) self.stopDrawing(); else self.startDrawing();
    });
    this.clearButton.addEventListener("click", function () { self.clearArea(); });
    f.zone.addEventListener("change", function () { self.pickZone(f.zone.value); });
    this.container.textContent = "";
    this.container.appendChild(el("div", { class: "ptsb" }, [
      el("h3", { text: "ประกาศเตือนภัย · Safety broadcast" }), form,
      el("h3", { text: "ประกาศที่มีผล · Active broadcasts" }), this.list
    ]));
  };

  // --- the area ---------------------------------------------------------------------------
  Panel.prototype.startDrawing = function () {
    this.clearArea();
    this.drawing = true;
    this.drawButton.classList.add("ptsb-on");
    this.drawButton.textContent = "เสร็จ · Finish";
    this.map.getContainer().style.cursor = "crosshair";
    this.map.on("click", this.onMapClick);
    this.areaInfo.textContent = "คลิกบนแผนที่อย่างน้อย 3 จุด · Click at least 3 points on the map";
  };

  Panel.prototype.stopDrawing = function () {
    if (!this.drawing) return;
    this.drawing = false;
    this.drawButton.classList.remove("ptsb-on");
    this.drawButton.textContent = "วาดพื้นที่ · Draw area";
    this.map.getContainer().style.cursor = "";
    this.map.off("click", this.onMapClick);
    this.describeArea();
  };

  Panel.prototype.addVertex = function (latlng) {
    this.vertices.push([Math.round(latlng.lat * 1e6) / 1e6, Math.round(latlng.lng * 1e6) / 1e6]);
    this.drawDraft();
    this.describeArea();
  };

  Panel.prototype.drawDraft = function () {
    this.draftLayer.clearLayers();
    var color = COLORS[this.form.severity.value] || "#d7301f";
    if (this.vertices.length >= 3) {
      L.polygon(this.vertices, { color: color, dashArray: "6 4", weight: 2, fillOpacity: 0.15 }).addTo(this.draftLayer);
    } else if (this.vertices.length) {
      L.polyline(this.vertices, { color: color, dashArray: "6 4" }).addTo(this.draftLayer);
    }
    var layer = this.draftLayer;
    this.vertices.forEach(function (v) { L.circleMarker(v, { radius: 4, color: color }).addTo(layer); });
  };

  Panel.prototype.describeArea = function () {
    if (this.zoneId) return;
    this.areaInfo.textContent = this.vertices.length >= 3
      ? "รูปหลายเหลี่ยม " + this.vertices.length + " จุด · Polygon of " + this.vertices.length + " points"
      : "ยังไม่ได้เลือกพื้นที่ · No area yet (" + this.vertices.length + "/3)";
  };

  Panel.prototype.clearArea = function () {
    this.stopDrawing();
    this.vertices = [];
    this.zoneId = null;
    this.form.zone.value = "";
    this.draftLayer.clearLayers();
    this.areaInfo.textContent = "ยังไม่ได้เลือกพื้นที่ · No area yet";
  };

  Panel.prototype.loadZones = function () {
    var self = this;
    this.zones = {};
    this.api("GET", "/api/v1/zones").then(function (res) {
      if (res.status !== 200 || !res.data.features) return;
      res.data.features.forEach(function (feature) {
        var p = feature.properties || {};
        if (p.id == null) return;
        self.zones[p.id] = feature;
        var label = (p.name || ("#" + p.id)) + (p.kind ? " (" + p.kind + ")" : "");
        self.form.zone.appendChild(el("option", { value: String(p.id), text: label }));
      });
    }).catch(function () {});
  };

  Panel.prototype.pickZone = function (value) {
    this.stopDrawing();
    this.vertices = [];
    this.draftLayer.clearLayers();
    this.zoneId = value ? parseInt(value, 10) : null;
    var feature = this.zoneId ? this.zones[this.zoneId] : null;
    if (!feature) { this.areaInfo.textContent = "ยังไม่ได้เลือกพื้นที่ · No area yet"; return; }
    var layer = L.geoJSON(feature, { style: { color: COLORS[this.form.severity.value], dashArray: "6 4", weight: 2 } });
    layer.addTo(this.draftLayer);
    try { this.map.fitBounds(layer.getBounds(), { maxZoom: 14 }); } catch (e) { /* empty geometry */ }
    this.areaInfo.textContent = "เขต · Zone: " + (feature.properties.name || this.zoneId);
  };

  Panel.prototype.area = function () {
    if (this.zoneId) return { zone_id: this.zoneId };
    if (this.vertices.length < 3) return null;
    var ring = this.vertices.map(function (v) { return [v[1], v[0]]; }); // GeoJSON is [lon, lat]
    ring.push(ring[0]);
    return { type: "Polygon", coordinates: [ring] };
  };

  // --- sending ----------------------------------------------------------------------------
  Panel.prototype.say = function (text, kind) {
    this.status.textContent = text;
    this.status.className = "ptsb-status " + (kind || "");
  };

  Panel.prototype.payload = function () {
    var f = this.form;
    var body = { headline: f.headline.value.trim(), message: f.message.value.trim(), severity: f.severity.value,
                 urgency: f.urgency.value, area: this.area() };
    if (f.instruction.value.trim()) body.instruction = f.instruction.value.trim();
    if (f.headlineTh.value.trim() && f.messageTh.value.trim()) {
      body.translations = { th: { headline: f.headlineTh.value.trim(), message: f.messageTh.value.trim() } };
    }
    if (f.expires.value) body.expires_at = new Date(Date.now() + parseInt(f.expires.value, 10) * 3600e3).toISOString();
    return body;
  };

  Panel.prototype.send = function () {
    var self = this;
    this.stopDrawing();
    var body = this.payload();
    if (!body.area) return this.say("โปรดเลือกพื้นที่ · Draw an area or pick a zone first", "error");
    if (!body.headline || !body.message) return this.say("โปรดกรอกหัวข้อและข้อความ · Headline and message are required", "error");
    if (!window.confirm("ส่งประกาศนี้? · Send this broadcast to every tourist in the area?\n\n" + body.headline)) return;
    this.sendButton.disabled = true;
    this.say("กำลังส่ง… · Sending…");
    this.api("POST", "/api/v1/broadcasts", body).then(function (res) {
      self.sendButton.disabled = false;
      if (res.status === 201) {
        self.say("ส่งถึงนักท่องเที่ยว " + res.data.recipients + " คน · Sent to " + res.data.recipients + " tourist(s)", "ok");
        self.form.headline.value = self.form.message.value = self.form.instruction.value = "";
        self.form.headlineTh.value = self.form.messageTh.value = "";
        self.clearArea();
        self.refresh();
      } else {
        self.say("ส่งไม่สำเร็จ · Not sent: " + describeError(res), "error");
      }
    }).catch(function () {
      self.sendButton.disabled = false;
      self.say("เครือข่ายขัดข้อง · Network error, not sent", "error");
    });
  };

  function describeError(res) {
    var errors = res.data && res.data.errors && (res.data.errors.json || res.data.errors);
    var parts = [];
    (function walk(prefix, value) {
      if (Array.isArray(value)) parts.push(prefix + ": " + value.join(" "));
      else if (value && typeof value === "object") Object.keys(value).forEach(function (k) { walk(prefix ? prefix + "." + k : k, value[k]); });
    })("", errors);
    return parts.length ? parts.join("; ") : (res.data && res.data.message) || ("HTTP " + res.status);
  }

  // --- broadcasts in force ----------------------------------------------------------------
  Panel.prototype.refresh = function () {
    var self = this;
    return this.api("GET", "/api/v1/broadcasts?active=true&limit=50").then(function (res) {
      if (res.status !== 200) return;
      self.render(res.data.items || []);
    }).catch(function () {});
  };

  Panel.prototype.render = function (items) {
    var self = this;
    this.activeLayer.clearLayers();
    this.list.textContent = "";
    if (!items.length) this.list.appendChild(el("li", { class: "empty", text: "ไม่มี · None" }));
    items.forEach(function (b) {
      var color = COLORS[b.severity] || "#555";
      var layer = L.geoJSON(b.area, { style: { color: color, weight: 2, fillOpacity: 0.12 } });
      layer.bindTooltip(el("span", { text: b.headline }));  // an element: Leaflet takes a string as HTML
      layer.addTo(self.activeLayer);
      var cancel = el("button", { type: "button", class: "ptsb-cancel", text: "ยกเลิก · Cancel" });
      cancel.addEventListener("click", function () {
        if (!window.confirm("ยกเลิกประกาศ? · Cancel this broadcast?\n\n" + b.headline)) return;
        self.api("POST", "/api/v1/broadcasts/" + b.id + "/cancel").then(function () { self.refresh(); });
      });
      var cap = el("a", { href: b.cap_url, target: "_blank", rel: "noopener", text: "CAP" });
      var when = new Date(b.created_at);
      var item = el("li", { "data-broadcast-id": String(b.id) }, [
        el("strong", { text: b.headline }),
        el("div", { class: "meta", text: b.severity + " · " + b.urgency + " · " + b.recipients + " คน/tourists · " +
          when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) +
          (b.expires_at ? " → " + new Date(b.expires_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "") }),
        el("div", {}, [cap, document.createTextNode(" "), cancel])
      ]);
      item.style.borderLeftColor = color;
      item.addEventListener("mouseenter", function () { layer.setStyle({ weight: 4 }); });
      item.addEventListener("mouseleave", function () { layer.setStyle({ weight: 2 }); });
      self.list.appendChild(item);
    });
  };

  // `current()`: the mounted panel (its map, area and state), for the console's own scripts and tests.
  window.PTSBroadcasts = { mount: mount, current: function () { return mounted; } };
})();
