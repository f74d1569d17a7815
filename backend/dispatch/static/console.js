/* 191 dispatcher console: live map, incident list with bursts grouped, SOS alarm, incident workflow
 * (units nearest first, call links, a readable timeline, the track), history and search, response-time
 * stats against the NENA reference, zone mutes, phone-call intake and the broadcast composer's dialog.
 *
 * Data: REST (/api/v1/dispatch/…, /api/v1/zones) with the signed-in staff token, and the
 * Socket.IO namespace /dispatch for live incident events (with seq, replayed on reconnect,
 * and resumed on the open socket whenever a gap in seq or a server `sync` shows one is missing),
 * zone mutes and batched tourist positions for the visible map area.
 *
 * Every time on the page is Bangkok time with its offset shown ("14:05 (UTC+7)"), whatever the
 * zone of the browser. Text from the data is only ever inserted as text. Other scripts of the page
 * (boats.js) use the `window.pts` hook at the end of this file.
 */
(function () {
  "use strict";

  var PHUKET = [7.95, 98.34];
  var TOKEN_KEY = "pts.console.token";
  var TZ = "Asia/Bangkok";
  var BURST_MS = 10 * 60 * 1000;   // danger-zone alerts of one zone this close together are one group row
  var SEV_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  var OPEN = { new: true, acknowledged: true, dispatched: true };
  var KIND = {
    sos: "SOS · ขอความช่วยเหลือ", danger_zone: "เขตอันตราย · Danger zone",
    left_area: "ออกนอกพื้นที่ · Left area", overdue: "ขาดการติดต่อ · Overdue",
    boat_overdue: "เรือกลับล่าช้า · Boat overdue", passenger_unaccounted: "ผู้โดยสารสูญหาย · Passenger unaccounted",
  };
  var KIND_ORDER = ["sos", "danger_zone", "left_area", "overdue", "boat_overdue", "passenger_unaccounted"];
  var CALL_KINDS = ["sos", "danger_zone", "left_area", "overdue"];  // what a dispatcher may open from a call
  var KIND_SHORT = { sos: "SOS", danger_zone: "!", left_area: "↗", overdue: "⏱", boat_overdue: "⚓", passenger_unaccounted: "?!" };
  var STATUS = {
    new: "ใหม่ · New", acknowledged: "รับทราบ · Acknowledged", dispatched: "ส่งหน่วยแล้ว · Dispatched",
    resolved: "ปิดเหตุ · Resolved", cancelled: "ยกเลิก · Cancelled",
  };
  var SEVERITY = { critical: "วิกฤต · Critical", high: "สูง · High", medium: "ปานกลาง · Medium", low: "ต่ำ · Low" };
  var EVENT = {  // timeline entries of a server that sends no `text`
    created: "เปิดเหตุ · Opened", updated: "อัปเดต · Updated", acknowledged: "รับทราบ · Acknowledged",
    dispatched: "ส่งหน่วย · Dispatched", resolved: "ปิดเหตุ · Resolved", cancelled: "ยกเลิก · Cancelled",
    note: "บันทึก · Note", returned: "กลับเข้าพื้นที่ · Returned",
  };
  var FACILITY = {
    hospital: "โรงพยาบาล · Hospital", police: "ตำรวจ · Police", tourist_police: "ตำรวจท่องเที่ยว · Tourist police",
    marine_police: "ตำรวจน้ำ · Marine police", checkpoint: "ด่าน · Checkpoint",
  };
  var AGENCY = {
    police: "ตำรวจ · Police", tourist_police: "ตำรวจท่องเที่ยว · Tourist police", marine_police: "ตำรวจน้ำ · Marine police",
    hospital: "โรงพยาบาล · Hospital", rescue: "กู้ภัย · Rescue", maritime_enforcement: "ศรชล. · Maritime enforcement",
  };
  var STATUS_COLOR = { ok: "#2fbf71", overdue: "#f5a524", outside: "#a66cff", danger: "#ff6b3d", sos: "#ff1f3d" };
  var NENA_S = 15;  // NENA: 90 % of emergency calls answered within 15 s

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
    mutes: {},              // zone id -> {zone_id, zone_name, until, by, reason}
    expanded: {},           // group key -> true while the burst's members are shown
    history: { items: [], next: null, params: null },
    known: {},              // id -> incident seen in a search result (not necessarily open)
    chimes: 0,              // danger-zone chimes sounded (muted zones never chime)
    tab: "live",
    intake: { card: null, picking: false },
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

  // One time zone for the whole page: Asia/Bangkok, its offset shown, never the browser's zone.
  var fmtHM = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var fmtHMS = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  var fmtDay = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, day: "numeric", month: "short" });
  var fmtYMD = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });
  var OFFSET = (function () {
    try {
      var part = new Intl.DateTimeFormat("en-US", { timeZone: TZ, timeZoneName: "shortOffset" }).formatToParts(new Date())
        .filter(function (p) { return p.type === "timeZoneName"; })[0];
      return part.value.replace("GMT", "UTC");
    } catch (e) { return "UTC+7"; }  // Thailand keeps UTC+7 all year
  })();
  function bangkokDay(d) { return fmtYMD.format(d); }
  function time(iso, withSeconds) {
    if (!iso) return "—";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "—";
    var s = (withSeconds ? fmtHMS : fmtHM).format(d);
    if (bangkokDay(d) !== bangkokDay(new Date())) s = fmtDay.format(d) + " " + s;
    return s + " (" + OFFSET + ")";
  }
  function bangkokMidnight() {  // today 00:00 in Bangkok (no daylight saving there)
    return new Date(bangkokDay(new Date()) + "T00:00:00+07:00");
  }
  function fromLocalInput(value) {  // a datetime-local value, read as Bangkok time
    if (!value) return null;
    var d = new Date(value + (value.length === 16 ? ":00" : "") + "+07:00");
    return isNaN(d.getTime()) ? null : d;
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var s = Math.round(seconds);
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min" + (s % 60 ? " " + (s % 60) + " s" : "");
    return Math.floor(s / 3600) + " h " + ("0" + Math.floor((s % 3600) / 60)).slice(-2) + " min";
  }
  function kindLabel(kind) { return KIND[kind] || kind; }
  function unitText(unit) {
    if (!unit) return null;
    if (typeof unit === "string") return unit;
    return unit.name + (unit.agency ? " (" + (AGENCY[unit.agency] || unit.agency) + ")" : "");
  }
  function personName(t) {
    if (!t) return null;
    var name = t.full_name || "";
    return t.latin_name && t.latin_name !== name ? name + " / " + t.latin_name : name;
  }
  function whoText(i) {  // the tourist, the boat of a trip's own incident (boat_overdue), or a 191 caller
    var name = personName(i.tourist || {});
    if (name) return name;
    if (i.card_id) return i.card_id;
    if (i.trip && i.trip.vessel_name) return "⛴ " + i.trip.vessel_name;
    var c = i.caller || {};
    return "☎ " + (c.name || c.phone || "ไม่มีบัตร · no card");
  }
  function dialNumber(text) {  // the number in a phone field or an emergency contact, for tel:/sms:
    if (!text) return null;
    var m = String(text).match(/\+?\d[\d\s().\-]{4,}\d/);
    if (!m) return null;
    var digits = m[0].replace(/[^\d+]/g, "").replace(/(?!^)\+/g, "");
    return digits.replace(/\D/g, "").length >= 5 ? digits : null;
  }
  // The shared staff session and API client (/static/web/staff.js); a 401 ends the session here.
  var session = StaffSession.open(TOKEN_KEY, {
    onExpired: function () { signOut("สิทธิ์หมดอายุ · Session expired, please sign in again"); },
  });
  function api(method, path, body) {  // → Promise of the JSON (its HTTP status as `_status`)
    return session.api(method, path, body).then(function (res) {
      var data = res.data || {};
      if (typeof data === "object") Object.defineProperty(data, "_status", { value: res.status });
      return data;
    }, function (e) {  // one StaffSession.ApiError; the console shows the field errors with the message
      e.message = e.detail;
      e.data = e.body || {};
      throw e;
    });
  }
  function options(select, pairs) {
    fill(select, pairs.map(function (p) { return elem("option", { value: p[0], text: p[1] }); }));
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
  var intakeLayer = L.layerGroup().addTo(map);
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
    var short = KIND_SHORT[inc.kind] || "?";
    var pulse = inc.status === "new" && inc.kind === "sos" ? " pulse" : "";
    var muted = isMuted(inc) ? " muted" : "";
    return L.divIcon({
      className: "", iconSize: [30, 30], iconAnchor: [15, 15],
      html: elem("div", { class: "incident-marker kind-" + inc.kind + pulse + muted, "data-incident": String(inc.id), text: short }),
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
    marker.bindTooltip(tip([kindLabel(inc.kind) + " — " + whoText(inc)]));
  }

  // --- zone mutes (danger-zone alerts only: SOS and every other kind always sound) -------------
  function muteActive(zoneId) {
    var m = state.mutes[zoneId];
    return !!(m && Date.parse(m.until) > Date.now());
  }
  function isMuted(inc) {
    if (!inc || inc.kind !== "danger_zone") return false;
    return (inc.zone && muteActive(inc.zone.id)) || inc.muted === true;
  }
  function setMute(m) {  // a mute from the API or a zone_mute event (until null: lifted)
    if (m.until && Date.parse(m.until) > Date.now()) {
      state.mutes[m.zone_id] = Object.assign({}, state.mutes[m.zone_id] || {}, m);
    } else {
      delete state.mutes[m.zone_id];
      Object.keys(state.incidents).forEach(function (id) {  // the server's flag was true while it lasted
        var inc = state.incidents[id];
        if (inc.zone && inc.zone.id === m.zone_id) { inc.muted = false; drawIncidentMarker(inc); }
      });
    }
    Object.keys(state.incidents).forEach(function (id) {
      var inc = state.incidents[id];
      if (inc.zone && inc.zone.id === m.zone_id) drawIncidentMarker(inc);
    });
    renderMutes();
    render();
  }
  function loadMutes() {
    return api("GET", "/api/v1/dispatch/mutes").then(function (data) {
      var fresh = {};
      (data.items || []).forEach(function (m) { fresh[m.zone_id] = m; });
      Object.keys(state.mutes).forEach(function (z) { if (!fresh[z]) setMute({ zone_id: +z, until: null }); });
      Object.keys(fresh).forEach(function (z) { state.mutes[z] = fresh[z]; });
      renderMutes();
      render();
    }).catch(function () { /* listed again on the next zone_mute event */ });
  }
  function renderMutes() {
    var items = Object.keys(state.mutes).map(function (z) { return state.mutes[z]; }).filter(function (m) {
      return Date.parse(m.until) > Date.now();
    }).sort(function (a, b) { return Date.parse(a.until) - Date.parse(b.until); });
    $("mute-count").textContent = items.length;
    $("mute-empty").hidden = items.length > 0;
    fill($("mute-list"), items.map(function (m) {
      var lift = elem("button", { type: "button", class: "btn btn-mini", "data-unmute": String(m.zone_id), text: "เปิดเสียง · Unmute" });
      return elem("li", { "data-zone": String(m.zone_id) }, [
        elem("div", {}, [elem("strong", { text: m.zone_name || ("#" + m.zone_id) }),
          elem("div", { class: "sub", text: "ถึง · until " + time(m.until) + " · โดย · by " + (m.by || "—") + (m.reason ? " · " + m.reason : "") })]),
        lift,
      ]);
    }));
  }
  $("mute-list").addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-unmute]");
    if (!btn) return;
    var zoneId = +btn.getAttribute("data-unmute");
    btn.disabled = true;
    api("DELETE", "/api/v1/dispatch/zones/" + zoneId + "/mute").then(function () {
      setMute({ zone_id: zoneId, until: null });
    }).catch(function (e) { btn.disabled = false; window.alert(e.message); });
  });
  setInterval(function () {  // mutes that ran out
    Object.keys(state.mutes).forEach(function (z) { if (!muteActive(z)) setMute({ zone_id: +z, until: null }); });
  }, 15000);

  var muteTarget = null;
  function openMute(zone) {
    muteTarget = zone;
    $("mute-zone").textContent = "ปิดเสียง · Mute: " + (zone.name || ("#" + zone.id));
    $("mute-error").textContent = "";
    $("mute-reason").value = "";
    $("mute-dialog").showModal();
    $("mute-reason").focus();
  }
  $("mute-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var minutes = Number($("mute-minutes").value), reason = $("mute-reason").value.trim();
    if (!Number.isInteger(minutes) || minutes < 5 || minutes > 720) { $("mute-error").textContent = "5–720 นาที · minutes"; return; }
    if (!reason) { $("mute-error").textContent = "ระบุเหตุผล · Give a reason"; $("mute-reason").focus(); return; }
    api("POST", "/api/v1/dispatch/zones/" + muteTarget.id + "/mute", { minutes: minutes, reason: reason }).then(function (m) {
      $("mute-dialog").close();
      setMute(m);
    }).catch(function (e) { $("mute-error").textContent = e.message; });
  });

  // --- the live list: incidents, bursts of one zone's danger alerts as one group row --------------
  function compare(a, b) {
    return (SEV_RANK[a.severity] - SEV_RANK[b.severity]) || (Date.parse(a.created_at) - Date.parse(b.created_at)) || (a.id - b.id);
  }
  function openItems() {
    var filter = $("filter-kind").value;
    return Object.keys(state.incidents).map(function (k) { return state.incidents[k]; }).filter(function (i) {
      return OPEN[i.status] && (!filter || i.kind === filter);
    }).sort(compare);
  }
  // Groups: open danger_zone incidents of one zone, each created within BURST_MS of the one before.
  function bursts(items) {
    var byZone = {}, groupOf = {};
    items.forEach(function (i) {
      if (i.kind !== "danger_zone" || !i.zone) return;
      (byZone[i.zone.id] = byZone[i.zone.id] || []).push(i);
    });
    Object.keys(byZone).forEach(function (z) {
      var list = byZone[z].slice().sort(function (a, b) { return Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id; });
      var current = null;
      list.forEach(function (i) {
        var at = Date.parse(i.created_at);
        if (current && at - current.last <= BURST_MS) { current.members.push(i); current.last = at; } else {
          current = { key: "z" + z + "-" + i.id, zone: i.zone, members: [i], last: at };
        }
        groupOf[i.id] = current;
      });
    });
    return groupOf;
  }
  function incidentRow(i, extraClass, closed) {
    var t = i.tourist || {};
    var muted = isMuted(i);
    var cls = "incident" + (extraClass || "") + (state.selected === i.id ? " selected" : "") +
      (state.alarmed[i.id] ? " alarming" : "") + (muted ? " muted" : "") +
      (!muted && i.kind === "danger_zone" && i.status === "new" ? " attention" : "");
    var sub = [t.nationality || "", i.card_id].concat(i.zone ? [i.zone.name] : [], i.trip ? [i.trip.vessel_name] : [],
      i.category ? [i.category] : [], i.unit ? [unitText(i.unit)] : []).filter(Boolean).join(" · ");
    return elem("li", { class: cls, "data-id": String(i.id), "data-kind": i.kind, "data-status": i.status }, [
      elem("span", { class: "sev sev-" + i.severity, title: SEVERITY[i.severity] || "" }),
      elem("span", {}, [elem("div", { class: "title", text: kindLabel(i.kind) + " — " + whoText(i) }),
                        elem("div", { class: "sub", text: sub })]),
      elem("span", { class: "meta" }, [elem("span", { class: "badge badge-" + i.status, text: STATUS[i.status] || i.status }),
        closed ? elem("div", { class: "age", text: time(i.created_at) })
               : elem("div", { class: "age", "data-created": i.created_at, text: ago(i.created_at) })]),
    ]);
  }
  function groupRow(g) {
    var n = g.members.length, fresh = g.members.filter(function (m) { return m.status === "new"; }).length;
    var muted = muteActive(g.zone.id) || g.members.every(isMuted);
    var first = g.members[0], last = g.members[n - 1];
    var worst = g.members.slice().sort(compare)[0];
    var cls = "incident group" + (state.expanded[g.key] ? " expanded" : "") + (muted ? " muted" : "") +
      (!muted && fresh ? " attention" : "");
    var mute = elem("button", { type: "button", class: "btn-mini", "data-mute-zone": String(g.zone.id),
      text: muted ? "🔇 " + time(state.mutes[g.zone.id] && state.mutes[g.zone.id].until) : "🔇 ปิดเสียง · Mute" });
    return elem("li", { class: cls, "data-group": g.key, "data-zone": String(g.zone.id), "data-count": String(n) }, [
      elem("span", { class: "sev sev-" + worst.severity }),
      elem("span", {}, [
        elem("div", { class: "title", text: n + " tourists in " + g.zone.name }),
        elem("div", { class: "sub", text: "นักท่องเที่ยว " + n + " คน · " + kindLabel("danger_zone") + " · " +
          fmtHM.format(new Date(first.created_at)) + "–" + time(last.created_at) + (fresh ? " · ใหม่ · new " + fresh : "") })]),
      elem("span", { class: "meta" }, [elem("span", { class: "badge badge-" + (fresh ? "new" : worst.status), text: "× " + n }),
                                       elem("div", { class: "group-actions" }, [mute])]),
    ]);
  }
  var renderQueued = false;
  function render() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(function () {
      renderQueued = false;
      var items = openItems(), groupOf = bursts(items), done = {}, nodes = [];
      items.forEach(function (i) {
        var g = groupOf[i.id];
        if (!g || g.members.length < 2) { nodes.push(incidentRow(i)); return; }
        if (done[g.key]) return;
        done[g.key] = true;
        nodes.push(groupRow(g));
        if (state.expanded[g.key]) g.members.forEach(function (m) { nodes.push(incidentRow(m, " member")); });
      });
      $("incident-count").textContent = items.length;
      $("incident-empty").hidden = items.length > 0;
      fill($("incident-list"), nodes);
      updateAlarm();
    });
  }
  $("incident-list").addEventListener("click", function (ev) {
    var mute = ev.target.closest("button[data-mute-zone]");
    if (mute) {
      var zoneId = +mute.getAttribute("data-mute-zone");
      var inc = Object.keys(state.incidents).map(function (k) { return state.incidents[k]; })
        .filter(function (i) { return i.zone && i.zone.id === zoneId; })[0];
      openMute(inc ? inc.zone : { id: zoneId, name: "#" + zoneId });
      return;
    }
    var group = ev.target.closest("li[data-group]");
    if (group) {
      var key = group.getAttribute("data-group");
      if (state.expanded[key]) delete state.expanded[key]; else state.expanded[key] = true;
      render();
      return;
    }
    var li = ev.target.closest("li[data-id]");
    if (li) select(+li.getAttribute("data-id"));
  });
  options($("filter-kind"), [["", "ทุกประเภท · All kinds"]].concat(KIND_ORDER.map(function (k) { return [k, KIND[k]]; })));
  $("filter-kind").addEventListener("change", render);
  setInterval(function () {
    document.querySelectorAll(".age[data-created]").forEach(function (el) { el.textContent = ago(el.getAttribute("data-created")); });
    $("clock").textContent = time(new Date().toISOString());
  }, 5000);
  $("clock").textContent = time(new Date().toISOString());

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
    var fresh = !state.incidents[ev.id];
    if (applyIncident(ev, ev.seq)) {
      var inc = state.incidents[ev.id];
      if (fresh && ev.event === "created" && inc.kind === "danger_zone" && inc.status === "new" && !isMuted(inc)) chime();
      if (state.known[ev.id]) updateKnown(inc);
      emitHook("incident", [inc]);
      render();
      if (state.selected === ev.id) loadDetail(ev.id);
    }
  }
  // The open incidents, page by page (newest first; the list sorts them itself).
  function loadIncidents() {
    var ids = {}, baseline = null;
    function page(cursor) {
      return api("GET", "/api/v1/dispatch/incidents?status=open&limit=200" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""))
        .then(function (data) {
          if (baseline === null) baseline = typeof data.last_seq === "number" ? data.last_seq : (state.lastSeq || 0);
          data.items.forEach(function (inc) { ids[inc.id] = true; applyIncident(inc, baseline); });
          return data.next_cursor ? page(data.next_cursor) : null;
        });
    }
    return page(null).then(function () {
      state.baselineSeq = Math.max(state.baselineSeq, baseline);
      knowSeq(baseline);
      Object.keys(state.incidents).forEach(function (id) {  // closed while we were away
        var inc = state.incidents[id];
        if (!ids[id] && OPEN[inc.status] && inc._seq <= baseline) {
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

  // --- the SOS alarm, and a single chime for a new danger-zone alert of an unmuted zone ---------
  var audio = { ctx: null, timer: null };
  function tone(pairs) {
    if (!audio.ctx) return;
    var t = audio.ctx.currentTime;
    pairs.forEach(function (p) {
      var osc = audio.ctx.createOscillator(), gain = audio.ctx.createGain();
      osc.type = p[2] || "square";
      osc.frequency.value = p[1];
      gain.gain.setValueAtTime(0.0001, t + p[0]);
      gain.gain.exponentialRampToValueAtTime(p[3] || 0.4, t + p[0] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + p[0] + 0.22);
      osc.connect(gain).connect(audio.ctx.destination);
      osc.start(t + p[0]);
      osc.stop(t + p[0] + 0.24);
    });
  }
  function beep() { tone([[0, 880], [0.25, 660]]); }
  function chime() {
    state.chimes += 1;
    window.ptsConsole.chimes = state.chimes;
    tone([[0, 740, "sine", 0.25]]);
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
      $("alarm-text").textContent = (first.tourist ? first.tourist.full_name : whoText(first)) +
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
  function findIncident(id) { return state.incidents[id] || state.known[id] || null; }
  function select(id) {
    state.selected = id;
    render();
    renderHistory();
    var inc = findIncident(id);
    var layout = $("layout"), wasOpen = layout.classList.contains("detail-open");
    $("detail").hidden = false;
    layout.classList.add("detail-open");
    if (!wasOpen) map.invalidateSize();
    if (inc && inc.lat !== null && inc.lat !== undefined) map.setView([inc.lat, inc.lon], Math.max(map.getZoom(), 14));
    loadDetail(id, true);
  }
  function closeDetail() {
    state.selected = null; state.detail = null;
    $("detail").hidden = true;
    $("layout").classList.remove("detail-open");
    map.invalidateSize();
    detailLayer.clearLayers();
    trackLayer.clearLayers();
    render();
    renderHistory();
  }
  function row(label, value, extra) {
    var dd = elem("dd", { text: value === null || value === undefined || value === "" ? "—" : String(value) });
    (extra || []).forEach(function (node) { dd.appendChild(document.createTextNode(" ")); dd.appendChild(node); });
    return [elem("dt", { text: label }), dd];
  }
  function rows(container, pairs) {
    fill(container, [].concat.apply([], pairs));
  }
  // Click-to-call and SMS links (tel:/sms: with the digits only) for the tourist or their emergency contact.
  function callLinks(text, who) {
    var number = dialNumber(text);
    if (!number) return [];
    return [elem("a", { href: "tel:" + number, class: "call tel", "data-call": who, text: "☎ โทร · Call" }),
            elem("a", { href: "sms:" + number, class: "call sms", "data-sms": who, text: "✉ SMS" })];
  }
  function timelineEntry(e) {
    var kind = e.kind || e.type;
    var text = e.text || EVENT[kind] || kind;
    var extra = !e.text && e.detail ? Object.keys(e.detail).filter(function (k) { return typeof e.detail[k] !== "object"; })
      .map(function (k) { return k + ": " + e.detail[k]; }).join(", ") : "";
    var actor = e.actor && text.indexOf(e.actor) < 0 ? elem("span", { class: "actor", text: " — " + e.actor }) : null;
    return elem("li", { "data-kind": kind }, [elem("span", { class: "t", text: time(e.at, true) }), text, actor,
                                              extra ? elem("br") : null, extra ? elem("small", { text: extra }) : null]);
  }
  function loadDetail(id, withContext) {
    return api("GET", "/api/v1/dispatch/incidents/" + id).then(function (d) {
      if (state.selected !== id) return;
      state.detail = d;
      var t = d.tourist || {};
      var h = Object.assign({}, t, d.holder || {});
      if (!h.latin_name && t.latin_name) h.latin_name = t.latin_name;
      $("detail-title").textContent = kindLabel(d.kind) + " #" + d.id;
      var caller = d.caller || {};
      var callerRows = d.caller ? [row("ผู้แจ้ง · Caller", caller.name),
        row("โทรผู้แจ้ง · Caller's phone", caller.phone, callLinks(caller.phone, "caller"))] : [];
      if (!d.card_id) {  // a card-less 191 call: the caller is who the dispatcher can reach
        rows($("detail-tourist"), callerRows.concat([row("บัตร · Card", "ไม่มีบัตร · No card")]));
      } else rows($("detail-tourist"), callerRows.concat([row("ชื่อ · Name", personName(h)),
        row("สัญชาติ · ภาษา · Nationality · language", [h.nationality, h.language].filter(Boolean).join(" · ")),
        row("โทร · Phone", h.phone, callLinks(h.phone, "tourist")),
        row("ผู้ติดต่อฉุกเฉิน · Emergency contact", h.emergency_contact, callLinks(h.emergency_contact, "emergency")),
        row("บัตร · Card", d.card_id + (d.card ? " (" + d.card.status + ")" : "")),
        row("โรงแรม · Hotel", d.stay ? d.stay.hotel + (d.stay.room ? ", room " + d.stay.room : "") + (d.stay.hotel_phone ? " · " + d.stay.hotel_phone : "") : null),
        row("ตำแหน่งล่าสุด · Last fix", d.last_position ? time(d.last_position.recorded_at) + (d.last_position.battery_pct !== null && d.last_position.battery_pct !== undefined ? " · 🔋" + Math.round(d.last_position.battery_pct) + "%" : "") : null)]));
      rows($("detail-incident"), [row("สถานะ · Status", STATUS[d.status] || d.status),
        row("ความรุนแรง · Severity", SEVERITY[d.severity] || d.severity), row("เวลา · Opened", time(d.created_at) + (OPEN[d.status] ? " (" + ago(d.created_at) + ")" : "")),
        row("พิกัด · Position", d.lat !== null && d.lat !== undefined ? d.lat.toFixed(5) + ", " + d.lon.toFixed(5) + (d.accuracy_m ? " ±" + Math.round(d.accuracy_m) + " m" : "") : null),
        row("เขต · Zone", d.zone ? d.zone.name + (isMuted(d) ? " 🔇" : "") : null), row("ประเภท · Category", d.category),
        row("หน่วย · Unit", unitText(d.unit)), row("ผล · Resolution", d.resolution), row("บันทึก · Note", d.note)]);
      fill($("detail-timeline"), (d.timeline || []).map(timelineEntry));
      var open = OPEN[d.status];
      document.querySelector('[data-action="acknowledge"]').disabled = d.status !== "new";
      document.querySelector('[data-action="dispatch"]').disabled = !(d.status === "new" || d.status === "acknowledged");
      $("unit-select").disabled = !(d.status === "new" || d.status === "acknowledged");
      document.querySelector('[data-action="resolve"]').disabled = !open;
      $("mute-open").hidden = !(d.kind === "danger_zone" && d.zone);
      if (d.zone) $("mute-open").onclick = function () { openMute(d.zone); };
      if (state.incidents[id]) {  // a fresher copy for the list (the socket event with its seq follows)
        var known = state.incidents[id];
        if (Date.parse(d.updated_at) >= Date.parse(known.updated_at)) {
          Object.keys(known).forEach(function (k) { if (k !== "_seq" && k in d) known[k] = d[k]; });
        }
      }
      if (state.known[id]) updateKnown(d);
      drawTrack(d);
      if (withContext) { loadContext(d); loadUnits(d); }
      var extra = $("detail-extra");
      extra.textContent = "";
      emitHook("detail", [d, extra]);
    }).catch(function (e) { $("action-error").textContent = e.message; });
  }
  // The incident's positions (oldest first) as a small track ending at the newest fix.
  var trackLayer = L.layerGroup().addTo(map);
  var trackRenderer = L.svg({ padding: 0.5 });  // SVG (the map's canvas has no elements to name)
  function drawTrack(d) {
    trackLayer.clearLayers();
    if (!Array.isArray(d.track)) return;
    var pts = d.track.filter(function (p) { return p.lat !== null && p.lon !== null; }).map(function (p) { return [p.lat, p.lon]; });
    if (!pts.length) return;
    L.polyline(pts, { color: "#00e5ff", weight: 3, dashArray: "6 4", className: "incident-track", renderer: trackRenderer })
      .addTo(trackLayer);
    d.track.forEach(function (p, n) {
      L.circleMarker([p.lat, p.lon], { radius: n === d.track.length - 1 ? 6 : 3, color: "#00e5ff", weight: 2, fillOpacity: 0.8,
                                       className: "track-point", renderer: trackRenderer })
        .bindTooltip(tip([time(p.recorded_at, true)])).addTo(trackLayer);
    });
  }
  function loadContext(d) {
    detailLayer.clearLayers();
    $("detail-nearby").textContent = "";
    if (!Array.isArray(d.track)) {  // a server without the detail's track: the card's last day
      api("GET", "/api/v1/dispatch/cards/" + encodeURIComponent(d.card_id) + "/track?hours=24").then(function (fc) {
        var pts = fc.features.map(function (f) { return [f.geometry.coordinates[1], f.geometry.coordinates[0]]; });
        if (pts.length) L.polyline(pts, { color: "#00e5ff", weight: 3, dashArray: "6 4" }).addTo(detailLayer);
      }).catch(function () {});
    }
    api("GET", "/api/v1/dispatch/incidents/" + d.id + "/nearby").then(function (data) {
      fill($("detail-nearby"), data.items.length ? data.items.map(function (f) {
        L.marker([f.lat, f.lon], { icon: L.divIcon({ className: "facility-marker", iconSize: [26, 26], html: { hospital: "H", marine_police: "⚓" }[f.kind] || "P" }) })
          .bindTooltip(tip([f.name])).addTo(detailLayer);
        var phone = dialNumber(f.phone);
        return elem("li", {}, [elem("strong", { text: FACILITY[f.kind] || f.kind }), ": " + f.name + (f.name_th ? " (" + f.name_th + ")" : "") +
          " — " + (f.distance_m / 1000).toFixed(1) + " km ", phone ? elem("a", { href: "tel:" + phone, text: "☎ " + f.phone }) : null]);
      }) : [elem("li", { text: "—" })]);
    }).catch(function () {});
  }
  // Units to send, nearest first where they have a base (GET /api/v1/dispatch/units?near=lat,lon).
  function loadUnits(d) {
    var select = $("unit-select");
    options(select, [["", "— เลือกหน่วย · Pick a unit (nearest first) —"]]);
    var near = d.lat !== null && d.lat !== undefined ? "?near=" + d.lat.toFixed(6) + "," + d.lon.toFixed(6) : "";
    api("GET", "/api/v1/dispatch/units" + near).then(function (data) {
      if (state.selected !== d.id) return;
      (data.items || []).forEach(function (u) {
        var km = u.distance_km === null || u.distance_km === undefined ? "" : " · " + u.distance_km.toFixed(1) + " km";
        select.appendChild(elem("option", { value: String(u.id), "data-name": u.name,
          text: u.name + " · " + (AGENCY[u.agency] || u.agency) + km }));
      });
    }).catch(function () { /* free text still works */ });
  }
  document.getElementById("actions").addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-action]");
    if (!btn || !state.selected) return;
    var action = btn.getAttribute("data-action"), body = {};
    $("action-error").textContent = "";
    if (action === "dispatch") {
      var picked = $("unit-select").value, typed = $("unit").value.trim();
      if (picked) body.unit_id = +picked; else if (typed) body.unit = typed;
      else { $("action-error").textContent = "เลือกหรือระบุหน่วย · Pick or type the unit you are sending"; $("unit-select").focus(); return; }
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
      if (action === "dispatch") $("unit-select").value = "";
      // show the new state at once; the socket event (with its seq) follows and confirms it
      var known = state.incidents[id];
      if (known || OPEN[inc.status]) {
        state.incidents[id] = Object.assign({}, inc, { _seq: known ? known._seq : 0 });
        if (inc.status !== "new") delete state.alarmed[id];
        drawIncidentMarker(state.incidents[id]);
      }
      if (state.known[id]) updateKnown(inc);
      render();
    }).catch(function (e) {
      $("action-error").textContent = e.message;
    }).finally(function () { btn.disabled = false; loadDetail(id); });
  });
  $("detail-close").addEventListener("click", closeDetail);

  // --- tabs ------------------------------------------------------------------------------------
  function showTab(name) {
    state.tab = name;
    document.querySelectorAll(".tab").forEach(function (t) { t.setAttribute("aria-selected", String(t.getAttribute("data-tab") === name)); });
    ["live", "history", "stats", "mutes"].forEach(function (n) { $("tab-" + n).hidden = n !== name; });
    if (name === "stats") loadStats();
    if (name === "mutes") loadMutes();
    if (name === "history" && !state.history.params) searchHistory();
  }
  document.querySelector(".tabs").addEventListener("click", function (ev) {
    var tab = ev.target.closest(".tab");
    if (tab) showTab(tab.getAttribute("data-tab"));
  });

  // --- history and search (GET /api/v1/dispatch/incidents with the contract's filters, cursor paging) --
  options($("h-kind"), [["", "ทุกประเภท · All kinds"]].concat(KIND_ORDER.map(function (k) { return [k, KIND[k]]; })));
  $("h-window").addEventListener("change", function () { $("h-custom").hidden = $("h-window").value !== "custom"; });
  function historyParams() {
    var p = { status: $("h-status").value, limit: "50" };
    if ($("h-kind").value) p.kind = $("h-kind").value;
    if ($("h-severity").value) p.severity = $("h-severity").value;
    if ($("h-q").value.trim()) p.q = $("h-q").value.trim();
    var w = $("h-window").value, now = Date.now(), since = null, until = null;
    if (w === "12h") since = new Date(now - 12 * 3600e3);
    else if (w === "today") since = bangkokMidnight();
    else if (w === "24h") since = new Date(now - 24 * 3600e3);
    else if (w === "7d") since = new Date(now - 7 * 86400e3);
    else if (w === "30d") since = new Date(now - 30 * 86400e3);
    else if (w === "custom") {
      since = fromLocalInput($("h-since").value);
      until = fromLocalInput($("h-until").value);
      if (since && until && until <= since) throw new Error("'ถึง' ต้องหลัง 'ตั้งแต่' · 'To' must be after 'From'");
    }
    if (since) p.since = since.toISOString();
    if (until) p.until = until.toISOString();
    return p;
  }
  function query(params) {
    return Object.keys(params).map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
  }
  function searchHistory(more) {
    var params;
    $("history-error").textContent = "";
    try {
      params = more ? Object.assign({}, state.history.params, { cursor: state.history.next }) : historyParams();
    } catch (e) { $("history-error").textContent = e.message; return Promise.resolve(); }
    if (!more) state.history = { items: [], next: null, params: params };
    var search = state.history;  // a newer search replaces it: this answer is then dropped
    $("history-more").disabled = true;
    return api("GET", "/api/v1/dispatch/incidents?" + query(params)).then(function (data) {
      if (search !== state.history) return;
      data.items.forEach(function (inc) { state.known[inc.id] = inc; });
      state.history.items = state.history.items.concat(data.items.map(function (i) { return i.id; }));
      state.history.next = data.next_cursor || null;
      renderHistory();
    }).catch(function (e) {
      if (search === state.history) $("history-error").textContent = e.message;
    }).finally(function () { $("history-more").disabled = false; });
  }
  function updateKnown(inc) {
    var copy = Object.assign({}, state.known[inc.id] || {}, inc);
    delete copy._seq; delete copy.seq; delete copy.event; delete copy.timeline;
    state.known[inc.id] = copy;
    renderHistory();
  }
  function renderHistory() {
    if (!state.history.params) return;
    var items = state.history.items.map(function (id) { return state.known[id]; }).filter(Boolean);
    fill($("history-list"), items.map(function (i) { return incidentRow(i, " history", true); }));
    $("history-empty").hidden = items.length > 0;
    $("history-more").hidden = !state.history.next;
  }
  $("history-form").addEventListener("submit", function (ev) { ev.preventDefault(); searchHistory(false); });
  $("history-more").addEventListener("click", function () { searchHistory(true); });
  $("history-list").addEventListener("click", function (ev) {
    var li = ev.target.closest("li[data-id]");
    if (li) select(+li.getAttribute("data-id"));
  });

  // --- response-time stats: the shift (last 12 h) and the day (since 00:00 Bangkok) vs NENA ---------
  var STAT_ROWS = [["time_to_acknowledge_s", "รับทราบ · Acknowledge"], ["time_to_dispatch_s", "ส่งหน่วย · Dispatch"],
                   ["time_to_resolve_s", "ปิดเหตุ · Resolve"]];
  function loadStats() {
    var now = new Date(), shiftSince = new Date(now.getTime() - 12 * 3600e3), daySince = bangkokMidnight();
    function get(since) {
      return api("GET", "/api/v1/dispatch/stats?" + query({ since: since.toISOString(), until: now.toISOString() }));
    }
    $("stats-error").textContent = "";
    return Promise.all([get(shiftSince), get(daySince)]).then(function (res) {
      var shift = res[0], day = res[1];
      window.ptsConsole.stats = { shift: shift, day: day };
      fill($("stats-rows"), STAT_ROWS.map(function (r) {
        var cells = [elem("th", { text: r[1] })];
        [["shift", shift], ["day", day]].forEach(function (w) {
          ["p50", "p90"].forEach(function (p) {
            var v = w[1][r[0]] ? w[1][r[0]][p] : null;
            cells.push(elem("td", { "data-stat": w[0] + "." + r[0] + "." + p, "data-value": v === null || v === undefined ? "" : String(v),
                                    text: duration(v) }));
          });
        });
        return elem("tr", {}, cells);
      }).concat([elem("tr", {}, [elem("th", { text: "เหตุ · Incidents" }),
        elem("td", { colspan: "2", "data-stat": "shift.total", "data-value": String(shift.incidents ? shift.incidents.total : ""), text: String(shift.incidents ? shift.incidents.total : "—") }),
        elem("td", { colspan: "2", "data-stat": "day.total", "data-value": String(day.incidents ? day.incidents.total : ""), text: String(day.incidents ? day.incidents.total : "—") })])]));
      var p90 = shift.time_to_acknowledge_s ? shift.time_to_acknowledge_s.p90 : null;
      var nena = $("nena");
      var verdict = p90 === null || p90 === undefined ? ["", "ยังไม่มีข้อมูลในกะนี้ · Nothing to measure in this shift yet"]
        : p90 <= NENA_S ? ["meets", "✓ กะนี้ผ่านเกณฑ์ · The shift meets it (90 % acknowledged within " + duration(p90) + ")"]
          : ["fails", "✗ กะนี้ไม่ผ่านเกณฑ์ · The shift does not meet it (90 % acknowledged within " + duration(p90) + ")"];
      nena.className = "nena " + verdict[0];
      nena.setAttribute("data-meets", verdict[0] === "meets" ? "true" : verdict[0] === "fails" ? "false" : "");
      fill(nena, [elem("strong", { text: "มาตรฐาน NENA: รับสาย 90 % ภายใน 15 วินาที · NENA: 90 % of calls answered within 15 s" }),
                  elem("span", { text: verdict[1] })]);
      $("stats-window").textContent = "กะนี้ · Shift: " + time(shiftSince.toISOString()) + " – " + time(now.toISOString()) +
        " · วันนี้ · Today: " + time(daySince.toISOString()) + " – " + time(now.toISOString());
    }).catch(function (e) { $("stats-error").textContent = e.message; });
  }
  $("stats-refresh").addEventListener("click", loadStats);
  setInterval(function () { if (state.started && state.tab === "stats") loadStats(); }, 60000);

  // --- a phone call: open an incident for a card found by search, or card-less with the caller --------
  options($("intake-kind"), CALL_KINDS.map(function (k) { return [k, KIND[k]]; }));
  function openIntake() {
    state.intake.card = null;
    $("intake-card").textContent = "—";
    $("intake-results").textContent = "";
    $("intake-error").textContent = "";
    $("intake-form").reset();
    $("intake-nocard").checked = false;
    intakeLayer.clearLayers();
    $("intake-dialog").show();
    $("intake-q").focus();
  }
  function cardRow(c) {
    var id = c.card_id || c.id;
    var name = c.full_name || (c.holder && c.holder.full_name) || (c.tourist && c.tourist.full_name) || "";
    var latin = c.latin_name || (c.holder && c.holder.latin_name) || null;
    var nat = c.nationality || (c.holder && c.holder.nationality) || "";
    var li = elem("li", { "data-card": id }, [elem("strong", { text: personName({ full_name: name, latin_name: latin }) || id }),
      elem("small", { text: [id, nat, c.status || ""].filter(Boolean).join(" · ") })]);
    li.addEventListener("click", function () {
      state.intake.card = { card_id: id, full_name: name };
      $("intake-nocard").checked = false;
      $("intake-card").textContent = (name ? name + " · " : "") + id;
      document.querySelectorAll("#intake-results li").forEach(function (n) { n.classList.toggle("picked", n === li); });
    });
    return li;
  }
  // Dispatchers find the card through the card search (GET /api/v1/cards?q=: name in any script or
  // the passport's Latin-script name, passport number, card id; audited as a read of each card shown)
  // and by a card id read out on the phone. A call without a card is logged card-less ("No card").
  function searchCards() {
    var q = $("intake-q").value.trim();
    $("intake-error").textContent = "";
    if (!q) { $("intake-q").focus(); return; }
    var results = $("intake-results");
    fill(results, [elem("li", { class: "empty", text: "…" })]);
    var found = [], seen = {};
    function add(card) {
      var id = card.card_id || card.id;
      if (!id || seen[id]) return;
      seen[id] = true;
      found.push(card);
    }
    var lookups = [];
    lookups.push(api("GET", "/api/v1/cards?" + query({ q: q, limit: "20" })).then(function (data) {
      (data.items || []).forEach(add);
    }));
    if (q.replace(/[^0-9a-z]/gi, "").length >= 9) {  // it may be a card id read out on the phone
      lookups.push(api("GET", "/api/v1/cards/" + encodeURIComponent(q)).then(add).catch(function (e) {
        if (e.status !== 404) throw e;
      }));
    }
    Promise.all(lookups).then(function () {
      fill(results, found.length ? found.map(cardRow) : [elem("li", { class: "empty", text: "ไม่พบบัตร · No card found" })]);
      if (found.length === 1) results.firstChild.click();
    }).catch(function (e) { results.textContent = ""; $("intake-error").textContent = e.message; });
  }
  function intakePosition() {
    var lat = $("intake-lat").value.trim(), lon = $("intake-lon").value.trim();
    if (!lat && !lon) return null;
    var a = Number(lat), b = Number(lon);
    if (!lat || !lon || !isFinite(a) || !isFinite(b) || a < -90 || a > 90 || b < -180 || b > 180) {
      throw new Error("พิกัดไม่ถูกต้อง · Give both lat (−90…90) and lon (−180…180), or neither");
    }
    return [a, b];
  }
  function drawIntakeMarker() {
    intakeLayer.clearLayers();
    var pos = null;
    try { pos = intakePosition(); } catch (e) { return; }
    if (pos) {
      L.circleMarker(pos, { radius: 9, color: "#fff", weight: 3, fillColor: "#b35a00", fillOpacity: 1, className: "intake-point",
                            renderer: trackRenderer }).addTo(intakeLayer);
    }
  }
  function onIntakeClick(e) {
    $("intake-lat").value = e.latlng.lat.toFixed(6);
    $("intake-lon").value = e.latlng.lng.toFixed(6);
    $("intake-error").textContent = "";
    stopPicking();
    drawIntakeMarker();
  }
  function stopPicking() {
    state.intake.picking = false;
    map.off("click", onIntakeClick);
    map.getContainer().style.cursor = "";
    $("map-hint").hidden = true;
  }
  $("intake-pick").addEventListener("click", function () {
    if (state.intake.picking) { stopPicking(); return; }
    state.intake.picking = true;
    map.getContainer().style.cursor = "crosshair";
    $("map-hint").textContent = "คลิกตำแหน่งเหตุบนแผนที่ · Click the incident's position on the map";
    $("map-hint").hidden = false;
    map.on("click", onIntakeClick);
  });
  ["intake-lat", "intake-lon"].forEach(function (id) {
    $(id).addEventListener("input", function () { $("intake-error").textContent = ""; drawIntakeMarker(); });
  });
  $("intake-nocard").addEventListener("change", function () {
    $("intake-error").textContent = "";
    if (!$("intake-nocard").checked) { if (!state.intake.card) $("intake-card").textContent = "—"; return; }
    state.intake.card = null;  // card-less: forget a card picked before
    $("intake-card").textContent = "ไม่มีบัตร · No card";
    document.querySelectorAll("#intake-results li").forEach(function (n) { n.classList.remove("picked"); });
  });
  $("intake-search").addEventListener("click", searchCards);
  $("intake-q").addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); searchCards(); } });
  $("intake-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("intake-error").textContent = "";
    var noCard = $("intake-nocard").checked;
    if (!noCard && !state.intake.card) {
      $("intake-error").textContent = "เลือกบัตร หรือเลือก “ไม่มีบัตร” · Find and pick the card, or tick “No card”";
      return;
    }
    var body = { kind: $("intake-kind").value };
    if (!noCard) body.card_id = state.intake.card.card_id;
    try {
      var pos = intakePosition();
      if (pos) { body.lat = pos[0]; body.lon = pos[1]; }
    } catch (e) { $("intake-error").textContent = e.message; return; }
    if (noCard && !pos) {
      $("intake-error").textContent = "เหตุที่ไม่มีบัตรต้องมีตำแหน่ง · A call without a card needs a place: pick it on the map";
      return;
    }
    var caller = {}, callerName = $("intake-caller-name").value.trim(), callerPhone = $("intake-caller-phone").value.trim();
    if (callerName) caller.name = callerName;
    if (callerPhone) caller.phone = callerPhone;
    if (callerName || callerPhone) body.caller = caller;
    if ($("intake-category").value) body.category = $("intake-category").value;
    if ($("intake-severity").value) body.severity = $("intake-severity").value;
    var note = $("intake-note").value.trim();
    if (note) body.note = note;
    var submit = ev.submitter || $("intake-form").querySelector("button[type=submit]");
    submit.disabled = true;
    api("POST", "/api/v1/dispatch/incidents", body).then(function (inc) {
      stopPicking();
      intakeLayer.clearLayers();
      $("intake-dialog").close();
      if (!state.incidents[inc.id] && OPEN[inc.status]) { applyIncident(inc, 0); render(); }
      showTab("live");
      select(inc.id);
      if (inc._status === 200) $("action-error").textContent = "บัตรนี้มีเหตุเปิดอยู่แล้ว · This card already had an open incident of that kind: here it is";
    }).catch(function (e) {
      $("intake-error").textContent = e.message;
    }).finally(function () { submit.disabled = false; });
  });

  // --- dialogs -------------------------------------------------------------------------------
  document.addEventListener("click", function (ev) {
    var close = ev.target.closest("[data-close]");
    if (!close) return;
    var dialog = $(close.getAttribute("data-close"));
    if (dialog === $("intake-dialog")) { stopPicking(); intakeLayer.clearLayers(); }
    dialog.close();
  });
  $("intake-open").addEventListener("click", openIntake);
  $("broadcast-open").addEventListener("click", function () { openBroadcast(); });
  function openBroadcast(draft) {
    var dialog = $("broadcast-dialog");
    if (!dialog.open) dialog.show();
    var panel = window.PTSBroadcasts && window.PTSBroadcasts.current && window.PTSBroadcasts.current();
    if (panel && draft && typeof panel.draft === "function") panel.draft(draft);
  }

  // --- the live feed ------------------------------------------------------------------------
  function setConn(cls, text) { var el = $("conn"); el.className = "conn " + cls; el.textContent = text; }
  function connect() {
    var lostAt = null;
    var socket = io("/dispatch", {
      auth: function (cb) { cb({ token: session.token() }); },
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
      loadMutes();
      sendViewport();
    });
    socket.on("incident", onIncidentEvent);
    socket.on("sync", onSync);
    socket.on("hello", function (msg) { if (msg) knowSeq(msg.last_seq); });
    socket.on("positions", onPositions);
    socket.on("zone_mute", function (m) {  // at once, then the list with the reason (the event has none)
      if (m && m.zone_id !== undefined) { setMute(m); if (m.until) loadMutes(); }
    });
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
    $("intake-open").disabled = false;
    $("broadcast-open").disabled = false;
    if (state.started) return;
    state.started = true;
    loadZones();
    connect();
    if (window.PTSBroadcasts && typeof window.PTSBroadcasts.mount === "function") {
      try {
        window.PTSBroadcasts.mount({ map: map, session: session, container: $("broadcasts"),
                                     formatTime: function (iso) { return time(iso); } });
      } catch (e) { if (window.console) console.error("broadcasts failed to load", e); }
    }
    emitHook("signin", [user]);
  }
  function signedOut() {
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    state.token = null;
    state.started = false;
    $("signin").hidden = false;
    $("sign-out").hidden = true;
    $("intake-open").disabled = true;
    $("broadcast-open").disabled = true;
    document.body.classList.remove("alarm");
    if (audio.timer) { clearInterval(audio.timer); audio.timer = null; }
  }
  // the shared sign-in form (/static/web/staff.js); signOut(message) ends the session and says why
  var signin = StaffSession.signInForm(session, {
    roles: ["dispatcher", "admin"], refused: "เฉพาะเจ้าหน้าที่ 191 · Dispatchers only",
    onSubmit: unlockAudio,  // the alarm's sound may only be unlocked inside the click's gesture
    onSignedIn: function (grant) {
      state.token = grant.token;
      start({ username: grant.username, role: grant.role });
    },
    onSignedOut: signedOut,
  });
  function signOut(message) { signin.signOut(message); }
  $("sign-out").addEventListener("click", function () { location.reload(); });  // after the form's sign-out: a clean page

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
    kindLabel: kindLabel,
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

  window.ptsConsole = { map: map, state: state, alarm: false, chimes: 0 };
  state.token = session.token();
  if (state.token) {
    api("GET", "/api/v1/auth/me").then(start).catch(function () { signOut(); });
  }
})();
