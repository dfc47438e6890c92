/* Progressive enhancements only: every page works without this file. No innerHTML:
   suggestions come from crawled product names and are inserted as text. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Keep shared URLs short: an empty town picker, or a radius without a place, says nothing.
  function tidyPlace(form) {
    var town = form.querySelector("select.js-near-town");
    var radius = form.querySelector("select.js-near-radius");
    if (!town || !radius) return;
    var located = form.querySelector('input[name="lat"]') && form.querySelector('input[name="lon"]');
    if (town.value) {
      // A chosen town replaces an earlier "près de moi" position.
      form.querySelectorAll('input[name="lat"], input[name="lon"]').forEach(function (input) {
        input.parentNode.removeChild(input);
      });
    } else {
      town.disabled = true;
      if (!located) radius.disabled = true;
    }
    form.querySelectorAll('input[type="search"]').forEach(function (input) {
      if (!input.value.trim()) input.disabled = true;  // "near=Tours", not "q=&near=Tours"
    });
  }

  function send(form) {
    tidyPlace(form);
    form.submit();
  }

  document.addEventListener("submit", function (event) {
    if (event.target.tagName === "FORM") tidyPlace(event.target);
  });
  // Back/forward cache: a page restored after submit must not keep its selects disabled.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("select.js-near-town, select.js-near-radius, input[type=search]").forEach(function (field) {
      field.disabled = false;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var filters = document.getElementById("filtres");
    if (filters) {
      // Ticking a filter applies it at once.
      filters.addEventListener("change", function (event) {
        if (event.target.type === "checkbox") send(filters);
      });
    }
    document.querySelectorAll("select.js-autosubmit").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) send(select.form);
      });
    });

    // "Near me": only offered when the browser can locate, and the position is asked for
    // only on click. It goes in the query string (rounded to ~100 m) with the chosen radius.
    if (navigator.geolocation) {
      document.querySelectorAll("button.js-near").forEach(function (near) {
        var form = near.form;
        if (!form) return;
        near.hidden = false;
        near.addEventListener("click", function () {
          var status = form.querySelector(".near-status");
          if (status) status.textContent = near.getAttribute("data-locating") || "…";
          near.disabled = true;
          navigator.geolocation.getCurrentPosition(function (position) {
            form.querySelectorAll('input[name="lat"], input[name="lon"]').forEach(function (input) {
              input.parentNode.removeChild(input);
            });
            [["lat", position.coords.latitude], ["lon", position.coords.longitude]].forEach(function (pair) {
              var input = document.createElement("input");
              input.type = "hidden";
              input.name = pair[0];
              input.value = pair[1].toFixed(3);
              form.appendChild(input);
            });
            var town = form.querySelector("select.js-near-town");
            if (town) town.value = "";  // the position, not a town
            var sort = document.querySelector('select[name="sort"]');
            if (sort && sort.value !== "distance") sort.disabled = true;  // let the portal rank by distance
            send(form);
          }, function () {
            near.disabled = false;
            if (status) status.textContent = near.getAttribute("data-denied") || "";
          }, { maximumAge: 600000, timeout: 10000 });
        });
      });
    }

    // On wide screens the filters are a sidebar: keep them open.
    var panel = document.getElementById("filtres-panneau");
    if (panel && window.matchMedia("(min-width: 60em)").matches) panel.open = true;

    // Suggestions while typing, through the native <datalist> (arrow keys and Enter work
    // as in any browser list). One request at a time: typing waits for a pause, a newer
    // prefix aborts the request still running, and answers are remembered per prefix.
    var list = document.getElementById("suggestions");
    if (!list || !window.fetch) return;
    var timer = null, shown = "", controller = null, cache = {};

    function show(prefix, suggestions) {
      shown = prefix;
      while (list.firstChild) list.removeChild(list.firstChild);
      suggestions.slice(0, 8).forEach(function (text) {
        var option = document.createElement("option");
        option.value = String(text);
        list.appendChild(option);
      });
    }

    function fetchSuggestions(prefix) {
      if (Object.prototype.hasOwnProperty.call(cache, prefix)) { show(prefix, cache[prefix]); return; }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch("/api/suggest?q=" + encodeURIComponent(prefix), {
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) {
          var suggestions = Array.isArray(data.suggestions) ? data.suggestions : [];
          cache[prefix] = suggestions;
          show(prefix, suggestions);
        })
        .catch(function () {});  // aborted or offline: the box still searches on Enter
    }

    document.querySelectorAll('input[list="suggestions"]').forEach(function (input) {
      input.addEventListener("input", function () {
        var prefix = input.value.trim();
        clearTimeout(timer);
        if (prefix.length < 2 || prefix === shown) return;
        timer = setTimeout(function () { fetchSuggestions(prefix); }, 200);
      });
    });
  });
})();
