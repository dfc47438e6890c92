/* Progressive enhancements only: every page works without this file. No innerHTML:
   suggestions come from crawled product names and are inserted as text. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    var filters = document.getElementById("filtres");
    if (filters) {
      // Ticking a filter or choosing a sort applies it at once.
      filters.addEventListener("change", function (event) {
        if (event.target.type === "checkbox") filters.submit();
      });
    }
    document.querySelectorAll("select.js-autosubmit").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) select.form.submit();
      });
    });

    // "Near me": only offered when the browser can locate; the position goes in the
    // query string (rounded to ~100 m), like every other parameter.
    var near = document.querySelector(".js-near");
    if (near && filters && navigator.geolocation) {
      document.getElementById("autour").hidden = false;
      near.addEventListener("click", function () {
        var status = document.querySelector(".near-status");
        status.textContent = near.getAttribute("data-locating") || "…";
        navigator.geolocation.getCurrentPosition(function (position) {
          [["lat", position.coords.latitude], ["lon", position.coords.longitude]].forEach(function (pair) {
            var input = document.createElement("input");
            input.type = "hidden";
            input.name = pair[0];
            input.value = pair[1].toFixed(3);
            filters.appendChild(input);
          });
          var sort = document.querySelector('select[name="sort"]');
          if (sort) sort.disabled = true;  // let the portal rank by distance
          filters.submit();
        }, function () {
          status.textContent = near.getAttribute("data-denied") || "";
        }, { maximumAge: 600000, timeout: 10000 });
      });
    }

    // On wide screens the filters are a sidebar: keep them open.
    var panel = document.getElementById("filtres-panneau");
    if (panel && window.matchMedia("(min-width: 60em)").matches) panel.open = true;

    // Suggestions while typing, through the native <datalist>.
    var list = document.getElementById("suggestions");
    if (!list || !window.fetch) return;
    var timer = null, last = "";
    document.querySelectorAll('input[list="suggestions"]').forEach(function (input) {
      input.addEventListener("input", function () {
        var prefix = input.value.trim();
        clearTimeout(timer);
        if (prefix.length < 2 || prefix === last) return;
        timer = setTimeout(function () {
          last = prefix;
          fetch("/api/suggest?q=" + encodeURIComponent(prefix), { headers: { Accept: "application/json" } })
            .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
            .then(function (data) {
              while (list.firstChild) list.removeChild(list.firstChild);
              (data.suggestions || []).forEach(function (text) {
                var option = document.createElement("option");
                option.value = String(text);
                list.appendChild(option);
              });
            })
            .catch(function () {});
        }, 150);
      });
    });
  });
})();
