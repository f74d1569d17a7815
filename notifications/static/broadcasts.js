/* Safety broadcasts for the 191 console: compose (one of the pre-written templates, in every
 * language, or free text; draw a polygon on the map or pick a zone), see who would receive it by
 * language before sending (POST /api/v1/broadcasts/preview), and send; the broadcasts in force
 * drawn on the map and listed, with their CAP documents.
 *
 *   PTSBroadcasts.mount({map, session, container, formatTime?})
 *
 * `map` is the console's Leaflet map, `session` the console's StaffSession (/static/web/staff.js:
 * the dispatcher's token, api() and its errors, a 401 ending the console's session) and
 * `container` is the element the panel is built in; `formatTime(iso)` writes a time (default:
 * Bangkok time with its offset). Mounting again (after a new sign-in) rebuilds the panel.
 * `PTSBroadcasts.current().draft({template, severity, area})` fills the form (area: {zone_id} or
 * a GeoJSON Polygon), e.g. from a marine warning. Every text from the server is inserted as text.
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
  var PREVIEW_DELAY_MS = 300;
  var mounted = null;

  var bangkokTime = (function () {
    var fmt = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Bangkok", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    return function (iso) { return iso ? fmt.format(new Date(iso)) + " (UTC+7)" : "—"; };
  })();

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
    if (!options || !options.map || !options.container || !options.session) {
      throw new Error("PTSBroadcasts.mount needs {map, session, container}");
    }
    if (mounted) mounted.destroy();
    mounted = new Panel(options.map, options.session, options.container, options.formatTime || bangkokTime);
    return mounted;
  }

  function Panel(map, session, container, formatTime) {
    var self = this;
    this.map = map;
    this.session = session;
    this.container = container;
    this.formatTime = formatTime;
    this.templates = {};
    this.template = null;
    this.pendingDraft = null;
    this.previewTimer = null;
    this.previewSeq = 0;
    this.vertices = [];
    this.drawing = false;
    this.zoneId = null;
    this.activeLayer = L.layerGroup().addTo(map);
    this.draftLayer = L.layerGroup().addTo(map);
    this.onMapClick = function (e) { self.addVertex(e.latlng); };
    injectStyle();
    this.build();
    this.loadZones();
    this.loadTemplates();
    this.refresh();
    this.timer = setInterval(function () { self.refresh(); }, REFRESH_MS);
  }

  Panel.prototype.destroy = function () {
    clearInterval(this.timer);
    clearTimeout(this.previewTimer);
    this.stopDrawing();
    this.map.removeLayer(this.activeLayer);
    this.map.removeLayer(this.draftLayer);
    this.container.textContent = "";
  };

  // {status, data} of a 2xx answer; any other answer rejects with a StaffSession.ApiError
  Panel.prototype.api = function (method, path, body) { return this.session.api(method, path, body); };

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
      zone: select("zone", [["", "— เลือกเขต · pick a zone —"]], ""),
      template: select("template", [["", "— ข้อความเอง · free text —"]], ""),
      language: select("preview_language", [["en", "English"]], "en")
    };
    this.templatePreview = el("div", { class: "ptsb-template-preview", lang: "en" }, [
      el("strong", { class: "ptsb-tp-headline" }), el("div", { class: "ptsb-tp-message" })]);
    this.templatePreview.hidden = true;
    this.recipients = el("div", { class: "ptsb-recipients", role: "status" });
    this.drawButton = el("button", { type: "button", class: "ptsb-draw", text: "วาดพื้นที่ · Draw area" });
    this.clearButton = el("button", { type: "button", class: "ptsb-clear", text: "ล้าง · Clear" });
    this.areaInfo = el("div", { class: "ptsb-area-info meta", text: "ยังไม่ได้เลือกพื้นที่ · No area yet" });
    this.status = el("div", { class: "ptsb-status", role: "status" });
    this.list = el("ul", { class: "ptsb-list" });
    this.sendButton = el("button", { type: "submit", class: "ptsb-send", text: "ส่งประกาศ · Send broadcast" });
    var form = el("form", { class: "ptsb-form", novalidate: "novalidate" }, [
      el("div", { class: "ptsb-row" }, [field("แม่แบบ · Template", f.template),
        field("ดูข้อความในภาษา · Preview in", f.language)]),
      this.templatePreview,
      el("div", { class: "ptsb-area" }, [this.drawButton, this.clearButton]),
      field("หรือเขต · or a zone", f.zone),
      this.areaInfo,
      this.recipients,
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
    f.template.addEventListener("change", function () { self.pickTemplate(f.template.value); });
    f.language.addEventListener("change", function () { self.showTemplateText(); });
    f.severity.addEventListener("change", function () { if (!self.zoneId) self.drawDraft(); });
    this.container.textContent = "";
    this.container.appendChild(el("div", { class: "ptsb" }, [
      el("h3", { text: "ประกาศเตือนภัย · Safety broadcast" }), form,
      el("h3", { class: "ptsb-active-head", text: "ประกาศที่มีผล · Active broadcasts" }), this.list
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
    this.schedulePreview();
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
    this.schedulePreview();
  };

  Panel.prototype.loadZones = function () {
    var self = this;
    this.zones = {};
    this.api("GET", "/api/v1/zones").then(function (res) {
      if (!res.data || !res.data.features) return;
      res.data.features.forEach(function (feature) {
        var p = feature.properties || {};
        if (p.id == null) return;
        self.zones[p.id] = feature;
        var label = (p.name || ("#" + p.id)) + (p.kind ? " (" + p.kind + ")" : "");
        self.form.zone.appendChild(el("option", { value: String(p.id), text: label }));
      });
      if (self.pendingDraft) self.draft(self.pendingDraft);
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
    this.schedulePreview();
  };

  // --- templates: pre-written in every language; the form shows the English text ----------------
  Panel.prototype.loadTemplates = function () {
    var self = this;
    this.api("GET", "/api/v1/broadcasts/templates").then(function (res) {
      if (!res.data || !res.data.items) return;
      var langs = {};
      res.data.items.forEach(function (t) {
        self.templates[t.id] = t;
        self.form.template.appendChild(el("option", { value: t.id, text: t.headline.en || t.id }));
        Object.keys(t.headline || {}).forEach(function (tag) { langs[tag] = true; });
      });
      var order = Object.keys(langs).sort(function (a, b) { return a === "en" ? -1 : b === "en" ? 1 : a < b ? -1 : 1; });
      self.form.language.textContent = "";
      order.forEach(function (tag) {
        self.form.language.appendChild(el("option", { value: tag, text: tag }));
      });
      self.api("GET", "/api/v1/languages").then(function (lr) {  // the languages' own names
        (lr.data && lr.data.supported || []).forEach(function (l) {
          var option = self.form.language.querySelector('option[value="' + l.tag + '"]');
          if (option) option.textContent = l.tag + " · " + l.name;
        });
      }).catch(function () {});
      if (self.pendingDraft) self.draft(self.pendingDraft);
    }).catch(function () {});
  };

  Panel.prototype.pickTemplate = function (id) {
    var t = id ? this.templates[id] : null;
    var f = this.form;
    this.template = t || null;
    if (t) {
      f.headline.value = t.headline.en || "";
      f.message.value = t.message.en || "";
      if (t.severity) f.severity.value = t.severity;
      if (t.urgency) f.urgency.value = t.urgency;
      if (!this.zoneId) this.drawDraft();
    }
    f.template.value = t ? t.id : "";
    this.showTemplateText();
  };

  Panel.prototype.showTemplateText = function () {
    var t = this.template, tag = this.form.language.value || "en";
    this.templatePreview.hidden = !t;
    if (!t) return;
    var rtl = /^(ar|he|fa|ur)\b/.test(tag);
    this.templatePreview.setAttribute("lang", tag);
    this.templatePreview.setAttribute("dir", rtl ? "rtl" : "ltr");
    this.templatePreview.querySelector(".ptsb-tp-headline").textContent = t.headline[tag] || t.headline.en || "";
    this.templatePreview.querySelector(".ptsb-tp-message").textContent = t.message[tag] || t.message.en || "";
  };

  // Fill the form from a draft (e.g. a marine warning's): {template, severity, area: {zone_id} | Polygon}.
  Panel.prototype.draft = function (draft) {
    if (!draft) return;
    this.pendingDraft = null;
    if (draft.template && !this.templates[draft.template]) this.pendingDraft = draft;  // not loaded yet
    if (draft.template && this.templates[draft.template]) this.pickTemplate(draft.template);
    if (draft.severity) { this.form.severity.value = draft.severity; }
    var area = draft.area;
    if (area && area.zone_id) {
      if (!this.zones || !this.zones[area.zone_id]) { this.pendingDraft = draft; return; }
      this.form.zone.value = String(area.zone_id);
      this.pickZone(String(area.zone_id));
    } else if (area && area.type === "Polygon" && area.coordinates && area.coordinates[0]) {
      this.clearArea();
      var ring = area.coordinates[0].slice(0, -1);
      this.vertices = ring.map(function (c) { return [c[1], c[0]]; });
      this.drawDraft();
      this.describeArea();
    }
  };

  // --- who would receive it, by language, before sending ------------------------------------
  Panel.prototype.schedulePreview = function () {
    var self = this;
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(function () { self.preview(); }, PREVIEW_DELAY_MS);
  };

  Panel.prototype.preview = function () {
    var self = this, area = this.area(), seq = ++this.previewSeq;
    this.lastPreview = null;
    if (!area) { this.recipients.textContent = ""; this.recipients.removeAttribute("data-recipients"); return Promise.resolve(null); }
    this.recipients.textContent = "กำลังนับผู้รับ… · Counting recipients…";
    return this.api("POST", "/api/v1/broadcasts/preview", { area: area }).then(function (res) {
      if (seq !== self.previewSeq) return null;
      self.lastPreview = res.data;
      self.recipients.setAttribute("data-recipients", String(res.data.recipients));
      self.recipients.textContent = "";
      self.recipients.appendChild(el("strong", { text: "ผู้รับ " + res.data.recipients + " คน · " + res.data.recipients + " recipient(s)" }));
      var list = el("ul", { class: "ptsb-languages" });
      (res.data.languages || []).forEach(function (l) {
        list.appendChild(el("li", { "data-lang": l.tag, text: l.name + " (" + l.tag + "): " + l.count }));
      });
      self.recipients.appendChild(list);
      return res.data;
    }).catch(function (err) {
      if (seq !== self.previewSeq) return null;
      self.recipients.textContent = err.status ? "นับผู้รับไม่ได้ · Recipients unknown: " + describeError(err) : "";
      return null;
    });
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
    var f = this.form, t = this.template;
    var body = { headline: f.headline.value.trim(), message: f.message.value.trim(), severity: f.severity.value,
                 urgency: f.urgency.value, area: this.area() };
    if (t) {  // each recipient reads the template in their language; edited English text is sent as written
      body.template = t.id;
      if (!body.headline || body.headline === (t.headline.en || "").trim()) delete body.headline;
      if (!body.message || body.message === (t.message.en || "").trim()) delete body.message;
    }
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
    if (!body.template && (!body.headline || !body.message)) return this.say("โปรดกรอกหัวข้อและข้อความ · Headline and message are required", "error");
    var who = this.lastPreview ? " (" + this.lastPreview.recipients + ")" : "";
    if (!window.confirm("ส่งประกาศนี้? · Send this broadcast to every tourist in the area" + who + "?\n\n" + (body.headline || this.form.headline.value))) return;
    this.sendButton.disabled = true;
    this.say("กำลังส่ง… · Sending…");
    this.api("POST", "/api/v1/broadcasts", body).then(function (res) {
      self.sendButton.disabled = false;
      self.say("ส่งถึงนักท่องเที่ยว " + res.data.recipients + " คน · Sent to " + res.data.recipients + " tourist(s)", "ok");
      self.form.headline.value = self.form.message.value = self.form.instruction.value = "";
      self.form.headlineTh.value = self.form.messageTh.value = "";
      self.pickTemplate("");
      self.clearArea();
      self.refresh();
    }).catch(function (err) {
      self.sendButton.disabled = false;
      if (err.status) self.say("ส่งไม่สำเร็จ · Not sent: " + describeError(err), "error");
      else self.say("เครือข่ายขัดข้อง · Network error, not sent", "error");
    });
  };

  function describeError(err) {  // the field errors of a StaffSession.ApiError, else its message
    var parts = window.StaffSession.fieldErrors(err.errors);
    return parts.length ? parts.join("; ") : err.message;
  }

  // --- broadcasts in force ----------------------------------------------------------------
  Panel.prototype.refresh = function () {
    var self = this;
    return this.api("GET", "/api/v1/broadcasts?active=true&limit=50").then(function (res) {
      self.render((res.data && res.data.items) || []);
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
        self.api("POST", "/api/v1/broadcasts/" + b.id + "/cancel").then(function () { self.refresh(); },
                                                                   function () { self.refresh(); });
      });
      var cap = el("a", { href: b.cap_url, target: "_blank", rel: "noopener", text: "CAP" });
      var item = el("li", { "data-broadcast-id": String(b.id) }, [
        el("strong", { text: b.headline }),
        el("div", { class: "meta", text: b.severity + " · " + b.urgency + " · " + b.recipients + " คน/tourists · " +
          self.formatTime(b.created_at) + (b.expires_at ? " → " + self.formatTime(b.expires_at) : "") }),
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
