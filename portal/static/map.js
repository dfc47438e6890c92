/* Maps of shops, drawn with the vendored Leaflet when MAP_TILE_URL is configured.
 * The page already lists every shop shown here, so without JavaScript, without Leaflet or
 * without tiles nothing is lost. Points come from a JSON block (never executed); popups are
 * built from text nodes, so a shop's name can never become markup. */
(function () {
  "use strict";
  if (!window.L || !document.querySelectorAll) return;

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function localLink(url) {
    // Only this portal's own pages ("/boutique/..."), never another site.
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" && url.indexOf("\\") < 0;
  }

  function popup(point) {
    var box = document.createElement("div");
    var title = document.createElement(localLink(point.url) ? "a" : "strong");
    title.textContent = String(point.name || "");
    if (title.tagName === "A") title.href = point.url;
    box.appendChild(title);
    if (point.town) {
      var town = document.createElement("div");
      town.textContent = String(point.town);
      box.appendChild(town);
    }
    return box;
  }

  function draw(figure) {
    var source = document.getElementById(figure.getAttribute("data-map"));
    var canvas = figure.querySelector(".map-canvas");
    if (!source || !canvas || !canvas.getAttribute("data-tiles")) return;
    var points;
    try {
      points = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    if (!Array.isArray(points)) return;
    points = points.filter(function (p) {
      return p && isNumber(p.lat) && isNumber(p.lon) && Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180;
    });
    if (!points.length) return;

    figure.hidden = false; // before Leaflet measures the container
    var map = L.map(canvas, { attributionControl: false, zoomControl: false, scrollWheelZoom: false });
    L.control.zoom({
      zoomInTitle: canvas.getAttribute("data-zoom-in") || "+",
      zoomOutTitle: canvas.getAttribute("data-zoom-out") || "-"
    }).addTo(map);
    L.tileLayer(canvas.getAttribute("data-tiles"), { maxZoom: 19, crossOrigin: false }).addTo(map);

    var bounds = [];
    points.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], {
        radius: 8, color: "#ffffff", weight: 2, fillColor: "#1f4e8c", fillOpacity: 0.95
      }).bindPopup(popup(p)).addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length === 1) {
      map.setView(bounds[0], 15);
    } else {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
    }
    figure.classList.add("map--ready");
  }

  function start() {
    var figures = document.querySelectorAll("[data-map]");
    for (var i = 0; i < figures.length; i++) {
      try {
        draw(figures[i]);
      } catch (error) {
        figures[i].hidden = true; // the list is still there
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
