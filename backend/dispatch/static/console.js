/* 191 dispatcher console: live map, incident list, SOS alarm, incident workflow.
 *
 * Data: REST (/api/v1/dispatch/…, /api/v1/zones) with the signed-in staff token, and the
 * Socket.IO namespace /dispatch for live incident events (with seq, replayed on reconnect,
 * and resumed on the open socket whenever a gap in seq or a server `sync` shows one is missing)
 * and batched tourist positions for the visible map area.
 */
(function () {
  "use strict";

  var PHUKET = [7.95, 98.34];
  var TOKEN_KEY = "pts.console.token";
  var SEV_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  var OPEN = { new: true, acknowledged: true, dispatched: true };
  var KIND = {
    sos: "SOS · ขอความช่วยเหลือ", danger_zone: "เขตอันตราย · Danger zone",
    left_area: "ออกนอกพื้นที่ · Left area", overdue: "ขาดการติดต่อ · Overdue",
  };
  var STATUS = {
    new: "ใหม่ · New", acknowledged: "รับทราบ · Acknowledged", dispatched: "ส่งหน่วยแล้ว · Dispatched",
    resolved: "ปิดเหตุ · Resolved", cancelled: "ยกเลิก · Cancelled",
  };
  var SEVERITY = { critical: "วิกฤต · Critical", high: "สูง · High", medium: "ปานกลาง · Medium", low: "ต่ำ · Low" };
  var EVENT = {
    created: "เปิดเหตุ · Opened", updated: "อัปเดต · Updated", acknowledged: "รับทราบ · Acknowledged",
    dispatched: "ส่งหน่วย · Dispatched", resolved: "ปิดเหตุ · Resolved", cancelled: "ยกเลิก · Cancelled",
    note: "บันทึก · Note", returned: "กลับเข้าพื้นที่ · Returned",
  };
  var FACILITY = {
    hospital: "โรงพยาบาล · Hospital", police: "ตำรวจ · Police", tourist_police: "ตำรวจท่องเที่ยว · Tourist police",
    marine_police: "ตำรวจน้ำ · Marine police", checkpoint: "ด่าน · Checkpoint",
  };
  var STATUS_COLOR = { ok: "#2fbf71", overdue: "#f5a524", outside: "#a66cff", danger: "#ff6b3d", sos: "#ff1f3d" };

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    token: null, user: null, socket: null, started: false,
    incidents: {},          // id -> incident (with _seq: the seq it reflects)
    seen: {},               // seq -> true (dedupe live + replayed events)
    received: [],           // [seq, receivedAtMs] of recent events, for a safe resume point
    baselineSeq: 0,         // last_seq of the latest full list
    lastSeq: null,          // the newest seq this page knows of (hello, the list, events)
    resuming: false,        // a resume is waiting for its acknowledgement
    resumeAgain: null,      // after_seq of a gap seen meanwhile (resumed once the first one is done)
    resumes: 0,             // resumes asked for without reconnecting (gaps and syncs)
    alarmed: {},            // incident id -> true while a new SOS awaits acknowledgement
    selected: null, detail: null,
    tourists: {},           // card id -> circle marker
  };

  // --- helpers -------------------------------------------------------------------------
  // Text from the data (names, notes, zone and hotel names) is only ever inserted as text, never
  // parsed as markup: elements are built here, and Leaflet tooltips are given elements, not strings.
  function elem(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "class") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === "") return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  function fill(container, nodes) {
    container.textContent = "";
    nodes.forEach(function (node) { container.appendChild(node); });
  }
  function tip(lines) {  // a tooltip's content: lines of text
    var node = elem("div");
    lines.forEach(function (line, n) {
      if (n) node.appendChild(elem("br"));
      node.appendChild(document.createTextNode(line === null || line === undefined ? "" : String(line)));
    });
    return node;
  }
  function ago(iso) {
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d";
  }
  function time(iso) {
    return iso ? new Date(iso).toLocaleString("en-GB", { timeZone: "Asia/Bangkok", hour12: false }) : "—";
  }
  function api(method, path, body) {
    var opts = { method: method, headers: { Authorization: "Bearer " + state.token } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { signOut("สิทธิ์หมดอายุ · Session expired, please sign in again"); }
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error(data.message || r.statusText); e.status = r.status; e.data = data; throw e; }
        return data;
      });
    });
  }

  // --- the map -------------------------------------------------------------------------
  var map = L.map("map", { zoomControl: true, preferCanvas: true }).setView(PHUKET, 11);
  var tileUrl = document.body.getAttribute("data-tile-url");
  if (tileUrl) {
    L.tileLayer(tileUrl, {
      maxZoom: 19, attribution: "© OpenStreetMap contributors", crossOrigin: true,
    }).addTo(map);
  }
  map.createPane("zones").style.zIndex = 350;
  var zoneRenderer = L.svg({ pane: "zones" });
  var zoneLayer = L.layerGroup().addTo(map);
  var touristLayer = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 50, disableClusteringAtZoom: 17 })
    .addTo(map);
  var incidentLayer = L.layerGroup().addTo(map);
  var detailLayer = L.layerGroup().addTo(map);
  var incidentMarkers = {};

  var ZONE_STYLE = {
    island: { color: "#5b4a2f", weight: 1.5, fillColor: "#efe6cf", fillOpacity: 0.95 },
    service_area: { color: "#1d4e89", weight: 2, dashArray: "8 6", fill: false },
    danger: { color: "#c0392b", weight: 1.5, fillColor: "#e74c3c", fillOpacity: 0.35 },
    caution: { color: "#d68910", weight: 1.5, fillColor: "#f5b041", fillOpacity: 0.3 },
  };
  function loadZones() {
    return fetch("/api/v1/zones").then(function (r) { return r.ok ? r.json() : { features: [] }; }).then(function (fc) {
      zoneLayer.clearLayers();
      var order = { service_area: 0, island: 1, caution: 2, danger: 3 };
      (fc.features || []).slice().sort(function (a, b) {
        return (order[a.properties.kind] || 9) - (order[b.properties.kind] || 9);
      }).forEach(function (f) {
        var p = f.properties || {};
        L.geoJSON(f, { pane: "zones", renderer: zoneRenderer, style: ZONE_STYLE[p.kind] || ZONE_STYLE.caution, interactive: p.kind !== "island" && p.kind !== "service_area" })
          .bindTooltip(tip([(p.name || "") + (p.severity ? " · " + p.severity : "")]), { sticky: true })
          .addTo(zoneLayer);
      });
    }).catch(function () { /* the map still works without zones */ });
  }

  function touristMarker(item) {
    var marker = state.tourists[item.card_id];
    var latlng = [item.lat, item.lon];
    var color = STATUS_COLOR[item.status] || STATUS_COLOR.ok;
    var label = tip([item.full_name + " (" + item.nationality + ")", item.card_id + " · " + item.status, time(item.recorded_at)]);
    if (!marker) {
      marker = L.circleMarker(latlng, { radius: 7, color: "#fff", weight: 2, fillColor: color, fillOpacity: 1 });
      marker.bindTooltip(label);
      state.tourists[item.card_id] = marker;
      return marker;
    }
    marker.setLatLng(latlng);
    marker.setStyle({ fillColor: color });
    marker.setTooltipContent(label);
    return null;
  }
  function onPositions(msg) {
    if (msg.reset) {
      touristLayer.clearLayers();
      state.tourists = {};
    }
    var fresh = [];
    (msg.items || []).forEach(function (item) {
      var m = touristMarker(item);
      if (m) fresh.push(m);
    });
    if (fresh.length) touristLayer.addLayers(fresh);
    if (!msg.reset) touristLayer.refreshClusters();
    $("tourist-count").textContent = Object.keys(state.tourists).length + " บนแผนที่ · on map" +
      (msg.truncated ? " (บางส่วน · partial)" : "");
  }
  var viewportTimer = null;
  function sendViewport() {
    clearTimeout(viewportTimer);
    viewportTimer = setTimeout(function () {
      if (!state.socket || !state.socket.connected) return;
      var b = map.getBounds().pad(0.1);
      var bbox = [Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()), Math.min(180, b.getEast()), Math.min(90, b.getNorth())];
      state.socket.emit("viewport", { bbox: bbox.map(function (n) { return +n.toFixed(5); }) });
    }, 300);
  }
  map.on("moveend", sendViewport);

  function incidentIcon(inc) {
    var short = { sos: "SOS", danger_zone: "!", left_area: "↗", overdue: "⏱" }[inc.kind] || "?";
    var pulse = inc.status === "new" && inc.kind === "sos" ? " pulse" : "";
    return L.divIcon({
      className: "", iconSize: [30, 30], iconAnchor: [15, 15],
      html: elem("div", { class: "incident-marker kind-" + inc.kind + pulse, "data-incident": String(inc.id), text: short }),
    });
  }
  function drawIncidentMarker(inc) {
    var marker = incidentMarkers[inc.id];
    if (!OPEN[inc.status] || inc.lat === null || inc.lon === null || inc.lat === undefined) {
      if (marker) { incidentLayer.removeLayer(marker); delete incidentMarkers[inc.id]; }
      return;
    }
    if (!marker) {
      marker = L.marker([inc.lat, inc.lon], { icon: incidentIcon(inc), zIndexOffset: inc.kind === "sos" ? 2000 : 1000 });
      marker.on("click", function () { select(inc.id); });
      incidentMarkers[inc.id] = marker.addTo(incidentLayer);
    } else {
      marker.setLatLng([inc.lat, inc.lon]);
      marker.setIcon(incidentIcon(inc));
    }
    marker.bindTooltip(tip([(KIND[inc.kind] || inc.kind) + " — " + (inc.tourist ? inc.tourist.full_name : inc.card_id)]));
  }

  // --- incidents -------------------------------------------------------------------------
  function sorted() {
    var filter = $("filter-kind").value;
    return Object.keys(state.incidents).map(function (k) { return state.incidents[k]; }).filter(function (i) {
      return OPEN[i.status] && (!filter || i.kind === filter);
    }).sort(function (a, b) {
      return (SEV_RANK[a.severity] - SEV_RANK[b.severity]) || (Date.parse(a.created_at) - Date.parse(b.created_at)) || (a.id - b.id);
    });
  }
  var renderQueued = false;
  function render() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(function () {
      renderQueued = false;
      var items = sorted();
      $("incident-count").textContent = items.length;
      $("incident-empty").hidden = items.length > 0;
      fill($("incident-list"), items.map(function (i) {
        var t = i.tourist || {};
        var cls = "incident" + (state.selected === i.id ? " selected" : "") + (state.alarmed[i.id] ? " alarming" : "");
        var sub = [t.nationality || "", i.card_id].concat(i.zone ? [i.zone.name] : [], i.category ? [i.category] : [],
                                                          i.unit ? [i.unit] : []).join(" · ");
        return elem("li", { class: cls, "data-id": String(i.id), "data-kind": i.kind, "data-status": i.status }, [
          elem("span", { class: "sev sev-" + i.severity, title: SEVERITY[i.severity] || "" }),
          elem("span", {}, [elem("div", { class: "title", text: (KIND[i.kind] || i.kind) + " — " + (t.full_name || i.card_id) }),
                            elem("div", { class: "sub", text: sub })]),
          elem("span", { class: "meta" }, [elem("span", { class: "badge badge-" + i.status, text: STATUS[i.status] || i.status }),
                                           elem("div", { class: "age", "data-created": i.created_at, text: ago(i.created_at) })]),
        ]);
      }));
      updateAlarm();
    });
  }
  $("incident-list").addEventListener("click", function (ev) {
    var li = ev.target.closest("li[data-id]");
    if (li) select(+li.getAttribute("data-id"));
  });
  $("filter-kind").addEventListener("change", render);
  setInterval(function () {
    document.querySelectorAll(".age[data-created]").forEach(function (el) { el.textContent = ago(el.getAttribute("data-created")); });
  }, 5000);

  function applyIncident(inc, seq) {
    var known = state.incidents[inc.id];
    if (known && known._seq >= seq) return false;  // older than what we show
    var copy = Object.assign({}, inc, { _seq: seq });
    delete copy.seq; delete copy.event;
    state.incidents[inc.id] = copy;
    drawIncidentMarker(copy);
    if (copy.kind === "sos" && copy.status === "new") state.alarmed[copy.id] = true;
    else delete state.alarmed[copy.id];
    if (state.tourists[copy.card_id] && copy.kind === "sos") {
      state.tourists[copy.card_id].setStyle({ fillColor: OPEN[copy.status] ? STATUS_COLOR.sos : STATUS_COLOR.ok });
    }
    return true;
  }
  function knowSeq(seq) {
    if (typeof seq === "number" && (state.lastSeq === null || seq > state.lastSeq)) state.lastSeq = seq;
  }
  // Ask for every event after `after` on the open socket (no reconnect): on a gap in seq, or a
  // sync that is ahead of us. Replayed duplicates are dropped by seq.
  function resumeAfter(after) {
    var socket = state.socket;
    if (!socket || !socket.connected) return;  // reconnecting resumes by itself
    if (state.resuming) {
      state.resumeAgain = state.resumeAgain === null ? after : Math.min(state.resumeAgain, after);
      return;
    }
    state.resuming = true;
    state.resumes += 1;
    socket.emit("resume", { after_seq: after }, function (ack) {
      state.resuming = false;
      if (ack && ack.error) loadIncidents();
      var again = state.resumeAgain;
      state.resumeAgain = null;
      if (again !== null) resumeAfter(again);
    });
  }
  function onSync(msg) {
    if (msg && typeof msg.last_seq === "number" && state.lastSeq !== null && msg.last_seq > state.lastSeq) {
      resumeAfter(state.lastSeq);
    }
  }
  function onIncidentEvent(ev) {
    if (state.seen[ev.seq]) return;
    // a gap: an event between the newest we know and this one did not reach us (yet)
    if (state.lastSeq !== null && ev.seq > state.lastSeq + 1) resumeAfter(state.lastSeq);
    knowSeq(ev.seq);
    state.seen[ev.seq] = true;
    state.received.push([ev.seq, Date.now()]);
    if (state.received.length > 500) state.received.splice(0, state.received.length - 500);
    if (applyIncident(ev, ev.seq)) {
      emitHook("incident", [state.incidents[ev.id]]);
      render();
      if (state.selected === ev.id) loadDetail(ev.id);
    }
  }
  function loadIncidents() {
    return api("GET", "/api/v1/dispatch/incidents?status=open&limit=1000").then(function (data) {
      state.baselineSeq = Math.max(state.baselineSeq, data.last_seq);
      knowSeq(data.last_seq);
      var ids = {};
      data.items.forEach(function (inc) { ids[inc.id] = true; applyIncident(inc, data.last_seq); });
      Object.keys(state.incidents).forEach(function (id) {  // closed while we were away
        var inc = state.incidents[id];
        if (!ids[id] && OPEN[inc.status] && inc._seq <= data.last_seq) {
          delete state.incidents[id]; delete state.alarmed[id]; drawIncidentMarker({ id: +id, status: "resolved" });
        }
      });
      render();
    });
  }
  // Resume from the newest seq received at least 5 s before we lost the connection: events of
  // different server processes may arrive slightly out of order, and replayed duplicates are
  // dropped by seq, so starting a little early never loses an event and never shows one twice.
  function resumePoint(lostAt) {
    var point = state.baselineSeq;
    state.received.forEach(function (r) { if (r[1] <= lostAt - 5000 && r[0] > point) point = r[0]; });
    return point;
  }

  // --- the SOS alarm ------------------------------------------------------------------------
  var audio = { ctx: null, timer: null };
  function beep() {
    if (!audio.ctx) return;
    var t = audio.ctx.currentTime;
    [0, 0.25].forEach(function (offset, n) {
      var osc = audio.ctx.createOscillator(), gain = audio.ctx.createGain();
      osc.type = "square";
      osc.frequency.value = n ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.4, t + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.22);
      osc.connect(gain).connect(audio.ctx.destination);
      osc.start(t + offset);
      osc.stop(t + offset + 0.24);
    });
  }
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio.ctx && Ctx) { try { audio.ctx = new Ctx(); } catch (e) { audio.ctx = null; } }
    if (audio.ctx && audio.ctx.state === "suspended") audio.ctx.resume();
  }
  document.addEventListener("click", unlockAudio);
  document.addEventListener("keydown", unlockAudio);
  function updateAlarm() {
    var ids = Object.keys(state.alarmed).filter(function (id) {
      var i = state.incidents[id];
      return i && i.kind === "sos" && i.status === "new";
    });
    var on = ids.length > 0;
    document.body.classList.toggle("alarm", on);
    $("alarm-banner").hidden = !on;
    if (on) {
      var first = state.incidents[ids[0]];
      $("alarm-text").textContent = (first.tourist ? first.tourist.full_name : first.card_id) +
        (ids.length > 1 ? " (+" + (ids.length - 1) + ")" : "");
      $("alarm-open").onclick = function () { select(first.id); };
      if (!audio.timer) { beep(); audio.timer = setInterval(beep, 1000); }
    } else if (audio.timer) {
      clearInterval(audio.timer);
      audio.timer = null;
    }
    window.ptsConsole.alarm = on;
    window.ptsConsole.beeping = !!audio.timer;
  }

  // --- incident detail and workflow -----------------------------------------------------------
  function select(id) {
    state.selected = id;
    render();
    var inc = state.incidents[id];
    if (inc && inc.lat !== null && inc.lat !== undefined) map.setView([inc.lat, inc.lon], Math.max(map.getZoom(), 14));
    loadDetail(id, true);
  }
  function row(label, value) {
    return [elem("dt", { text: label }), elem("dd", { text: value === null || value === undefined || value === "" ? "—" : String(value) })];
  }
  function rows(container, pairs) {
    fill(container, [].concat.apply([], pairs));
  }
  function loadDetail(id, withContext) {
    return api("GET", "/api/v1/dispatch/incidents/" + id).then(function (d) {
      if (state.selected !== id) return;
      state.detail = d;
      var h = d.holder || d.tourist || {};
      $("detail").hidden = false;
      $("detail-title").textContent = (KIND[d.kind] || d.kind) + " #" + d.id;
      rows($("detail-tourist"), [row("ชื่อ · Name", h.full_name), row("สัญชาติ · Nationality", h.nationality),
        row("โทร · Phone", h.phone), row("ภาษา · Language", h.language), row("ผู้ติดต่อฉุกเฉิน · Emergency", h.emergency_contact),
        row("บัตร · Card", d.card_id + (d.card ? " (" + d.card.status + ")" : "")),
        row("โรงแรม · Hotel", d.stay ? d.stay.hotel + (d.stay.room ? ", room " + d.stay.room : "") + (d.stay.hotel_phone ? " · " + d.stay.hotel_phone : "") : null),
        row("ตำแหน่งล่าสุด · Last fix", d.last_position ? time(d.last_position.recorded_at) + (d.last_position.battery_pct !== null ? " · 🔋" + Math.round(d.last_position.battery_pct) + "%" : "") : null)]);
      rows($("detail-incident"), [row("สถานะ · Status", STATUS[d.status] || d.status),
        row("ความรุนแรง · Severity", SEVERITY[d.severity] || d.severity), row("เวลา · Opened", time(d.created_at) + " (" + ago(d.created_at) + ")"),
        row("พิกัด · Position", d.lat !== null ? d.lat.toFixed(5) + ", " + d.lon.toFixed(5) + (d.accuracy_m ? " ±" + Math.round(d.accuracy_m) + " m" : "") : null),
        row("เขต · Zone", d.zone ? d.zone.name : null), row("ประเภท · Category", d.category),
        row("หน่วย · Unit", d.unit), row("ผล · Resolution", d.resolution), row("บันทึก · Note", d.note)]);
      fill($("detail-timeline"), d.timeline.map(function (e) {
        var extra = e.detail ? Object.keys(e.detail).filter(function (k) { return typeof e.detail[k] !== "object"; })
          .map(function (k) { return k + ": " + e.detail[k]; }).join(", ") : "";
        return elem("li", {}, [elem("span", { class: "t", text: time(e.at) }), " " + (EVENT[e.type] || e.type) + (e.actor ? " — " + e.actor : ""),
                               extra ? elem("br") : null, extra ? elem("small", { text: extra }) : null]);
      }));
      var open = OPEN[d.status];
      document.querySelector('[data-action="acknowledge"]').disabled = d.status !== "new";
      document.querySelector('[data-action="dispatch"]').disabled = !(d.status === "new" || d.status === "acknowledged");
      document.querySelector('[data-action="resolve"]').disabled = !open;
      if (withContext) loadContext(d);
      var extra = $("detail-extra");
      extra.textContent = "";
      emitHook("detail", [d, extra]);
    }).catch(function (e) { $("action-error").textContent = e.message; });
  }
  function loadContext(d) {
    detailLayer.clearLayers();
    $("detail-nearby").textContent = "";
    api("GET", "/api/v1/dispatch/cards/" + encodeURIComponent(d.card_id) + "/track?hours=24").then(function (fc) {
      var pts = fc.features.map(function (f) { return [f.geometry.coordinates[1], f.geometry.coordinates[0]]; });
      if (pts.length) {
        L.polyline(pts, { color: "#00e5ff", weight: 3, dashArray: "6 4" }).addTo(detailLayer);
        pts.forEach(function (p) { L.circleMarker(p, { radius: 3, color: "#00e5ff" }).addTo(detailLayer); });
      }
    }).catch(function () {});
    api("GET", "/api/v1/dispatch/incidents/" + d.id + "/nearby").then(function (data) {
      fill($("detail-nearby"), data.items.length ? data.items.map(function (f) {
        L.marker([f.lat, f.lon], { icon: L.divIcon({ className: "facility-marker", iconSize: [26, 26], html: { hospital: "H", marine_police: "⚓" }[f.kind] || "P" }) })
          .bindTooltip(tip([f.name])).addTo(detailLayer);
        return elem("li", {}, [elem("strong", { text: FACILITY[f.kind] || f.kind }), ": " + f.name + (f.name_th ? " (" + f.name_th + ")" : "") +
          " — " + (f.distance_m / 1000).toFixed(1) + " km" + (f.phone ? " · ☎ " + f.phone : "")]);
      }) : [elem("li", { text: "—" })]);
    }).catch(function () {});
  }
  document.getElementById("actions").addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-action]");
    if (!btn || !state.selected) return;
    var action = btn.getAttribute("data-action"), body = {};
    $("action-error").textContent = "";
    if (action === "dispatch") {
      body.unit = $("unit").value.trim();
      if (!body.unit) { $("action-error").textContent = "ระบุหน่วย · Enter the unit you are sending"; $("unit").focus(); return; }
    } else if (action === "resolve") {
      var resolution = $("resolution").value.trim();
      if (resolution) body.resolution = resolution;
    } else if (action === "notes") {
      body.note = $("note").value.trim();
      if (!body.note) { $("note").focus(); return; }
    }
    btn.disabled = true;
    var id = state.selected;
    api("POST", "/api/v1/dispatch/incidents/" + id + "/" + action, body).then(function (inc) {
      var field = { dispatch: "unit", resolve: "resolution", notes: "note" }[action];
      if (field) $(field).value = "";
      // show the new state at once; the socket event (with its seq) follows and confirms it
      var known = state.incidents[id];
      state.incidents[id] = Object.assign({}, inc, { _seq: known ? known._seq : 0 });
      if (inc.status !== "new") delete state.alarmed[id];
      drawIncidentMarker(state.incidents[id]);
      render();
    }).catch(function (e) {
      $("action-error").textContent = e.message;
    }).finally(function () { btn.disabled = false; loadDetail(id); });
  });
  $("detail-close").addEventListener("click", function () {
    state.selected = null; state.detail = null; $("detail").hidden = true; detailLayer.clearLayers(); render();
  });

  // --- the live feed ------------------------------------------------------------------------
  function setConn(cls, text) { var el = $("conn"); el.className = "conn " + cls; el.textContent = text; }
  function connect() {
    var lostAt = null;
    var socket = io("/dispatch", {
      auth: function (cb) { cb({ token: state.token }); },
      transports: ["websocket", "polling"],
      reconnectionDelay: 500, reconnectionDelayMax: 5000,
    });
    state.socket = socket;
    socket.on("connect", function () {
      setConn("conn-on", "ออนไลน์ · Live");
      if (lostAt === null) {
        loadIncidents();
      } else {
        socket.emit("resume", { after_seq: resumePoint(lostAt) }, function (ack) {
          if (ack && ack.error) loadIncidents();
        });
        loadIncidents();  // also catches incidents closed while we were away
      }
      sendViewport();
    });
    socket.on("incident", onIncidentEvent);
    socket.on("sync", onSync);
    socket.on("hello", function (msg) { if (msg) knowSeq(msg.last_seq); });
    socket.on("positions", onPositions);
    bindSocketHooks(socket);
    socket.on("disconnect", function (reason) {
      lostAt = Date.now();
      state.resuming = false;  // its acknowledgement will never come; the reconnect resumes instead
      state.resumeAgain = null;
      setConn("conn-wait", "กำลังเชื่อมต่อใหม่ · Reconnecting…");
      if (reason === "io server disconnect") {  // the server ended the session (token expired?)
        api("GET", "/api/v1/auth/me").then(function () { socket.connect(); }).catch(function () {});
      }
    });
    socket.on("connect_error", function (err) {
      setConn("conn-off", "ออฟไลน์ · Offline");
      if (err && /token|dispatchers/.test(err.message || "")) signOut("สิทธิ์หมดอายุ · Session expired, please sign in again");
    });
  }

  // --- sign-in ----------------------------------------------------------------------------
  function start(user) {
    state.user = user;
    $("signin").hidden = true;
    $("who").textContent = user.username + " (" + user.role + ")";
    $("sign-out").hidden = false;
    if (state.started) return;
    state.started = true;
    loadZones();
    connect();
    emitHook("signin", [user]);
    if (window.PTSBroadcasts && typeof window.PTSBroadcasts.mount === "function") {
      try {
        window.PTSBroadcasts.mount({ map: map, getToken: function () { return state.token; }, container: $("broadcasts") });
      } catch (e) { if (window.console) console.error("broadcasts failed to load", e); }
    }
  }
  function openBroadcast(draft) {
    var panel = window.PTSBroadcasts && window.PTSBroadcasts.current && window.PTSBroadcasts.current();
    if (panel && draft && typeof panel.draft === "function") panel.draft(draft);
    var box = $("broadcasts");
    if (box) box.scrollIntoView();
  }
  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    state.token = null;
    state.started = false;
    $("signin").hidden = false;
    $("sign-out").hidden = true;
    $("signin-error").textContent = message || "";
    document.body.classList.remove("alarm");
    if (audio.timer) { clearInterval(audio.timer); audio.timer = null; }
  }
  $("sign-out").addEventListener("click", function () { signOut(); location.reload(); });
  $("signin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    unlockAudio();
    $("signin-error").textContent = "";
    fetch("/api/v1/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }),
    }).then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); }).then(function (res) {
      if (!res.ok) throw new Error(res.d.message || "sign-in failed");
      if (res.d.role !== "dispatcher" && res.d.role !== "admin") throw new Error("เฉพาะเจ้าหน้าที่ 191 · Dispatchers only");
      state.token = res.d.access_token;
      sessionStorage.setItem(TOKEN_KEY, state.token);
      $("password").value = "";
      start({ username: res.d.username, role: res.d.role });
    }).catch(function (e) { $("signin-error").textContent = e.message; });
  });

  // --- the hook for other scripts of this page (boats.js of the marine layer) -------------------
  // window.pts, documented in docs/console.md:
  //   pts.map                    the Leaflet map
  //   pts.api(method, path, body) a fetch with the dispatcher's token → Promise of the JSON (rejects on 4xx/5xx)
  //   pts.el(tag, attrs, children) builds elements (text only, never markup)
  //   pts.time(iso)               "14:05 (UTC+7)": every time on the page, in Asia/Bangkok
  //   pts.kindLabel(kind)         the bilingual label of an incident kind (unknown kinds: their id)
  //   pts.onDetail(fn)            fn(detail, container) whenever an incident's detail is shown; `container`
  //                               is an empty element in the detail panel that belongs to the caller
  //   pts.onIncident(fn)          fn(incident) for every live incident event
  //   pts.onSocket(event, fn)     a handler for a /dispatch Socket.IO event (e.g. "trip", "marine_warning"),
  //                               kept across reconnects and sign-ins
  //   pts.onSignIn(fn)            fn(user) once signed in (at once if already signed in)
  //   pts.select(id)              open an incident in the detail panel
  //   pts.openBroadcast(draft)    open the broadcast composer, optionally with {template, severity, area}
  // The same moments are also DOM CustomEvents on document: "pts:detail" (detail: the incident),
  // "pts:incident" (detail: the incident) and "pts:signin" (detail: the user).
  var hooks = { detail: [], incident: [], signin: [], socket: [] };
  function emitHook(name, args) {
    hooks[name].forEach(function (fn) {
      try { fn.apply(null, args); } catch (e) { if (window.console) console.error("pts hook failed", e); }
    });
    document.dispatchEvent(new CustomEvent("pts:" + name, { detail: args[0] }));
  }
  function bindSocketHooks(socket) {
    hooks.socket.forEach(function (h) { socket.on(h[0], h[1]); });
  }
  window.pts = {
    map: map,
    api: function (method, path, body) { return api(method, path, body); },
    el: elem,
    time: function (iso) { return time(iso); },
    kindLabel: function (kind) { return KIND[kind] || kind; },
    onDetail: function (fn) { hooks.detail.push(fn); },
    onIncident: function (fn) { hooks.incident.push(fn); },
    onSocket: function (event, fn) {
      hooks.socket.push([event, fn]);
      if (state.socket) state.socket.on(event, fn);
    },
    onSignIn: function (fn) { hooks.signin.push(fn); if (state.started && state.user) fn(state.user); },
    select: function (id) { select(id); },
    openBroadcast: function (draft) { openBroadcast(draft); },
  };

  window.ptsConsole = { map: map, state: state, alarm: false };
  state.token = sessionStorage.getItem(TOKEN_KEY);
  if (state.token) {
    api("GET", "/api/v1/auth/me").then(start).catch(function () { signOut(); });
  }
})();
