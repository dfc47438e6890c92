/* Maps of shops, drawn with the vendored Leaflet: on tiles when MAP_TILE_URL is configured
 * (data-tiles), else on the region's départements and communes bundled with the portal
 * (data-geo, a file of this very site; none with OFFLINE_MAP_FILE=off, markers only):
 * no request leaves the portal then.
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

  // Shapes of the bundled file: rings of integers, in thousandths of a degree, each point
  // a step from the previous one (longitude first, as GeoJSON writes them).
  function rings(shape, scale) {
    var polygons = [];
    (shape.p || []).forEach(function (polygon) {
      var out = [];
      polygon.forEach(function (flat) {
        var ring = [], x = 0, y = 0;
        for (var k = 0; k + 1 < flat.length; k += 2) {
          x += flat[k];
          y += flat[k + 1];
          ring.push([y / scale, x / scale]);
        }
        if (ring.length > 2) out.push(ring);
      });
      if (out.length) polygons.push(out);
    });
    return polygons;
  }

  function drawRegion(map, url, canvas) {
    // Under the markers (Leaflet's overlay pane is 400), on one canvas: 1,800 communes
    // would be 1,800 SVG nodes.
    var pane = map.createPane("region");
    pane.style.zIndex = 350;
    var renderer = L.canvas({ pane: "region", padding: 0.3 });
    function layer(shapes, scale, style) {
      var count = 0;
      (shapes || []).forEach(function (shape) {
        var polygons = rings(shape, scale);
        if (!polygons.length) return;
        L.polygon(polygons, L.extend({ renderer: renderer, interactive: false }, style)).addTo(map);
        count += 1;
      });
      return count;
    }
    if (!window.fetch) return;
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        var scale = isNumber(data.scale) && data.scale > 0 ? data.scale : 1000;
        var communes = layer(data.communes, scale, {
          color: "#cfc4b2", weight: 0.6, fillColor: "#fbf8f1", fillOpacity: 1
        });
        var departements = layer(data.departements, scale, {
          color: "#7d6b52", weight: 1.8, fill: false
        });
        canvas.setAttribute("data-communes", String(communes));
        canvas.setAttribute("data-departements", String(departements));
        canvas.classList.add("map-canvas--region");
      })
      .catch(function () {
        canvas.classList.add("map-canvas--no-region"); // markers only, on the plain background
      });
  }

  function draw(figure) {
    var source = document.getElementById(figure.getAttribute("data-map"));
    var canvas = figure.querySelector(".map-canvas");
    if (!source || !canvas) return;
    var tiles = canvas.getAttribute("data-tiles");
    var geo = canvas.getAttribute("data-geo");
    if (!tiles && geo && !localLink(geo)) return;
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
    // The bundled contours are simplified to about 100 m: no use zooming closer than a town.
    var closest = tiles ? 15 : 11;
    var map = L.map(canvas, {
      attributionControl: false, zoomControl: false, scrollWheelZoom: false, maxZoom: tiles ? 19 : 12
    });
    L.control.zoom({
      zoomInTitle: canvas.getAttribute("data-zoom-in") || "+",
      zoomOutTitle: canvas.getAttribute("data-zoom-out") || "-"
    }).addTo(map);
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, crossOrigin: false }).addTo(map);
    } else if (geo) {
      drawRegion(map, geo, canvas);
    } else {
      canvas.classList.add("map-canvas--no-region"); // OFFLINE_MAP_FILE=off: markers only
    }

    var bounds = [];
    points.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], {
        radius: 8, color: "#ffffff", weight: 2, fillColor: "#1f4e8c", fillOpacity: 0.95
      }).bindPopup(popup(p)).addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length === 1) {
      map.setView(bounds[0], tiles ? 15 : 10);
    } else {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: closest });
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
