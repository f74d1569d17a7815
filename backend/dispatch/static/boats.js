/* The 191 console's marine layer: boats at sea, trip manifests in incident details, marine warnings.
 *
 * Uses the console's hook (window.pts, see console.js and docs/console.md):
 * - "boats at sea": every trip at sea at its last position (GET /api/v1/marine/trips.geojson?status=at_sea)
 *   with its vessel name and head count, refreshed on the /dispatch `trip` event and every 30 s;
 * - the manifest of a boat_overdue / passenger_unaccounted incident in its detail (name, nationality,
 *   phone, boarded, ashore, last fix);
 * - a banner per `marine_warning` event, with a button that opens the broadcast composer with the draft.
 * Text from the data is only ever inserted as text (pts.el, textContent), never as markup.
 */
(function () {
  "use strict";

  var REFRESH_MS = 30000;
  var MARINE_KINDS = { boat_overdue: true, passenger_unaccounted: true };
  var FLAG = { red: "ธงแดง · Red flag", yellow: "ธงเหลือง · Yellow flag", green: "ธงเขียว · Green flag" };
  var pts = window.pts;
  if (!pts || !pts.map || typeof L === "undefined") return;  // the console did not load: nothing to add to
  var el = pts.el;

  (function stylesheet() {  // this layer's own styles (same origin, as the policy allows)
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/dispatch/boats.css";
    document.head.appendChild(link);
  })();

  var state = { trips: {}, timer: null, pending: null, started: false, warnings: {}, count: 0 };
  var layer = L.layerGroup().addTo(pts.map);
  var warningLayer = L.layerGroup().addTo(pts.map);  // stations under a marine warning
  var stationMarkers = {};

  // --- the layer's switch and count ------------------------------------------------------
  var BoatControl = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      var box = el("label", { class: "boats-control leaflet-bar", id: "boats-control" });
      var check = el("input", { type: "checkbox", id: "boats-toggle" });
      check.checked = true;
      check.addEventListener("change", function () {
        if (check.checked) layer.addTo(pts.map); else pts.map.removeLayer(layer);
      });
      box.appendChild(check);
      box.appendChild(el("span", { text: " ⛴ เรือในทะเล · Boats at sea " }));
      box.appendChild(el("strong", { id: "boats-count", text: "0" }));
      L.DomEvent.disableClickPropagation(box);
      return box;
    },
  });
  new BoatControl().addTo(pts.map);

  function headCount(p) {
    var n = p.passengers_aboard;
    return typeof n === "number" ? n : 0;
  }
  function isLate(p) { return p.overdue === true || (p.returns_by && new Date(p.returns_by).getTime() < Date.now()); }
  function tripId(f) {
    var p = f.properties || {};
    return p.trip_id !== undefined ? p.trip_id : (f.id !== undefined ? f.id : p.id);
  }

  function boatIcon(p) {
    var late = isLate(p);
    var label = el("div", { class: "boat-label" + (late ? " boat-late" : ""), "data-trip-id": String(p.trip_id) }, [
      el("span", { class: "boat-glyph", text: "⛴" }),
      el("span", { class: "boat-name", text: p.vessel_name || "?" }),
      el("span", { class: "boat-heads", title: "ผู้โดยสารบนเรือ · passengers aboard", text: headCount(p) + " คน · pax" }),
    ]);
    return L.divIcon({ className: "boat-marker", html: label, iconSize: null, iconAnchor: [14, 14] });
  }

  function boatTip(p) {
    var lines = [
      (p.vessel_name || "?") + (p.vessel_registration ? " (" + p.vessel_registration + ")" : ""),
      (p.operator ? (p.operator.name || p.operator) + " · " : "") + (p.pier || "") + " → " + (p.destination || ""),
      "ผู้โดยสาร · Aboard: " + headCount(p),
      "กลับภายใน · Back by: " + pts.time(p.returns_by) + (isLate(p) ? " — เกินเวลา · LATE" : ""),
    ];
    if (p.position_source === "pier") lines.push("ยังไม่มีตำแหน่งจากผู้โดยสาร · No fix yet: shown at its pier");
    else if (p.recorded_at) lines.push("ตำแหน่งล่าสุด · Last fix: " + pts.time(p.recorded_at));
    if (p.crew_phone) lines.push("☎ " + p.crew_phone);
    var box = el("div", {});
    lines.forEach(function (line, n) { if (n) box.appendChild(el("br")); box.appendChild(document.createTextNode(line)); });
    return box;
  }

  function drawTrips(fc) {
    layer.clearLayers();
    state.trips = {};
    (fc.features || []).forEach(function (f) {
      if (!f.geometry || f.geometry.type !== "Point") return;
      var p = Object.assign({}, f.properties || {}, { trip_id: tripId(f) });
      var c = f.geometry.coordinates;
      var marker = L.marker([c[1], c[0]], { icon: boatIcon(p), keyboard: false, riseOnHover: true, zIndexOffset: 500 });
      marker.bindTooltip(boatTip(p), { direction: "top", offset: [0, -12] });
      marker.addTo(layer);
      state.trips[p.trip_id] = { properties: p, marker: marker };
    });
    state.count = Object.keys(state.trips).length;
    var count = document.getElementById("boats-count");
    if (count) count.textContent = String(state.count);
  }

  function loadTrips() {
    return pts.api("GET", "/api/v1/marine/trips.geojson?status=at_sea").then(drawTrips).catch(function () {
      /* the marine service may be unavailable: the console works without the layer */
    });
  }
  function soon() {  // many `trip` events in a burst (a boarding queue): one reload
    if (state.pending) return;
    state.pending = setTimeout(function () { state.pending = null; loadTrips(); }, 700);
  }

  // --- the manifest in an incident's detail -------------------------------------------------
  function cell(text, cls) { return el("td", cls ? { class: cls, text: text } : { text: text }); }
  function fix(p) {
    var last = p.last_position;
    if (!last) return "—";
    return (typeof last.lat === "number" ? last.lat.toFixed(4) + ", " + last.lon.toFixed(4) + " · " : "") + pts.time(last.recorded_at);
  }
  function phoneCell(phone) {
    if (!phone) return cell("—");
    var td = el("td", {});
    td.appendChild(el("a", { href: "tel:" + String(phone).replace(/[^0-9+]/g, ""), text: phone }));
    return td;
  }

  function manifestTable(passengers, incident) {
    var rows = passengers.map(function (p) {
      var missing = !p.ashore_at;
      var highlight = missing && (incident.kind === "boat_overdue" || p.card_id === incident.card_id);
      return el("tr", { class: "manifest-row" + (highlight ? " manifest-missing" : ""), "data-card-id": p.card_id }, [
        el("td", {}, [el("strong", { text: p.full_name || "—" }), el("br"), el("small", { text: p.card_id || "" })]),
        cell(p.nationality || "—"),
        phoneCell(p.phone),
        cell(pts.time(p.boarded_at)),
        cell(p.ashore_at ? pts.time(p.ashore_at) : "ยังไม่ขึ้นฝั่ง · not ashore", p.ashore_at ? "" : "not-ashore"),
        cell(fix(p)),
      ]);
    });
    return el("table", { class: "manifest", id: "manifest-table" }, [
      el("thead", {}, [el("tr", {}, ["ชื่อ · Name", "สัญชาติ · Nationality", "โทร · Phone", "ขึ้นเรือ · Boarded",
        "ขึ้นฝั่ง · Ashore", "ตำแหน่งล่าสุด · Last fix"].map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", {}, rows),
    ]);
  }

  function renderManifest(d, container, passengers) {
    var trip = d.trip || {};
    var ashore = passengers.filter(function (p) { return p.ashore_at; }).length;
    var box = el("section", { class: "marine-detail", id: "marine-detail" }, [
      el("h3", { text: "เรือ · Boat trip" }),
      el("p", { class: "trip-line", text: (trip.vessel_name || "?") + " · " + (trip.pier || "") + " → " + (trip.destination || "") +
        " · กลับภายใน · back by " + pts.time(trip.returns_by) }),
      el("p", { class: "trip-counts", text: "ผู้โดยสาร · Aboard " + passengers.length + " · ขึ้นฝั่ง · Ashore " + ashore +
        " · ยังไม่ขึ้นฝั่ง · Not ashore " + (passengers.length - ashore) }),
      passengers.length ? manifestTable(passengers, d) : el("p", { class: "empty", text: "ไม่มีผู้โดยสาร · No passengers" }),
    ]);
    container.appendChild(box);
  }

  pts.onDetail(function (d, container) {
    if (!MARINE_KINDS[d.kind]) return;
    if (Array.isArray(d.manifest)) { renderManifest(d, container, d.manifest); return; }
    if (d.trip && d.trip.id) {  // a detail without the manifest: ask the trip itself
      pts.api("GET", "/api/v1/marine/trips/" + d.trip.id).then(function (t) {
        if (container.isConnected) renderManifest(d, container, t.passengers || []);
      }).catch(function () {});
    }
  });

  // --- marine warnings ----------------------------------------------------------------------
  // the banners sit on the map (a Leaflet control under the layer switch): the lists beside it stay readable
  var WarningControl = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      var box = el("div", { id: "marine-warnings", class: "marine-warnings", role: "alert", "aria-live": "assertive" });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
  });
  var warningControl = new WarningControl().addTo(pts.map);
  function warningBox() { return warningControl.getContainer(); }

  function showWarning(w) {
    var station = w.station || {};
    var key = String(station.id);
    var old = state.warnings[key];
    if (old && old.parentNode) old.parentNode.removeChild(old);
    if (!w.warning) {  // ended
      delete state.warnings[key];
      if (stationMarkers[key]) { warningLayer.removeLayer(stationMarkers[key]); delete stationMarkers[key]; }
      return;
    }
    var reason = w.warning.reason || "";
    var text = "คำเตือนทางทะเล · Marine warning — " + (station.name || "station") +
      (w.zone && w.zone.name ? " (" + w.zone.name + ")" : "") + ": " + (FLAG[reason] || reason) +
      " · " + pts.time(w.warning.since);
    var children = [el("span", { class: "marine-icon", "aria-hidden": "true", text: "⚠" }), el("span", { class: "marine-text", text: text })];
    if (w.broadcast_draft) {
      var draft = el("button", { type: "button", class: "btn btn-warn marine-draft", text: "ร่างประกาศ · Draft broadcast" });
      draft.addEventListener("click", function () { pts.openBroadcast(w.broadcast_draft); });
      children.push(draft);
    }
    var close = el("button", { type: "button", class: "btn btn-ghost marine-close", "aria-label": "Dismiss", text: "✕" });
    children.push(close);
    var banner = el("div", { class: "marine-warning", "data-station-id": key }, children);
    close.addEventListener("click", function () { if (banner.parentNode) banner.parentNode.removeChild(banner); });
    state.warnings[key] = banner;
    warningBox().appendChild(banner);
    if (stationMarkers[key]) { warningLayer.removeLayer(stationMarkers[key]); delete stationMarkers[key]; }
    if (typeof station.lat === "number") {
      stationMarkers[key] = L.circleMarker([station.lat, station.lon], { radius: 9, color: "#ff1f3d", weight: 3, fillOpacity: 0.4 })
        .bindTooltip(el("span", { text: text })).addTo(warningLayer);
    }
  }

  function loadWarnings() {  // warnings already in force when the console opens (no draft with them)
    return fetch("/api/v1/marine/conditions").then(function (r) { return r.ok ? r.json() : { stations: [] }; }).then(function (c) {
      (c.stations || []).forEach(function (s) {
        if (s.warning && !state.warnings[String(s.id)]) {
          showWarning({ station: s, warning: typeof s.warning === "object" ? s.warning : { reason: String(s.warning), since: s.observed_at } });
        }
      });
    }).catch(function () {});
  }

  // --- wiring --------------------------------------------------------------------------------
  pts.onSocket("trip", soon);
  pts.onSocket("marine_warning", showWarning);
  pts.onSignIn(function () {
    if (state.started) return;
    state.started = true;
    loadTrips();
    loadWarnings();
    state.timer = setInterval(function () { if (!document.hidden) loadTrips(); }, REFRESH_MS);
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden && state.started) loadTrips(); });
  window.ptsBoats = { reload: loadTrips, count: function () { return state.count; } };
})();
