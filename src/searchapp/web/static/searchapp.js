/* searchapp: niceties on top of a page that works without JavaScript.
   - facet checkboxes and the sort order apply at once;
   - a box filters long facet lists;
   - "/" focuses the search box;
   - empty fields are left out of the URL. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var form = document.getElementById("search");
    var box = document.getElementById("q");

    function submit() {
      if (!form) return;
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    }

    // Facet checkboxes and the sort select live outside the form (form="search").
    document.addEventListener("change", function (event) {
      var el = event.target;
      if (!(el instanceof HTMLElement) || el.getAttribute("form") !== "search") return;
      if ((el.type === "checkbox") || el.classList.contains("auto-submit")) {
        document.body.classList.add("is-loading");
        submit();
      }
    });

    // Shorter, shareable URLs: no empty fields, no default sort.
    if (form) {
      form.addEventListener("formdata", function (event) {
        var data = event.formData;
        var drop = [];
        data.forEach(function (value, key) {
          if (value === "" || (key === "sort" && value === "relevance")) drop.push(key);
        });
        drop.forEach(function (key) {
          var kept = data.getAll(key).filter(function (v) {
            return v !== "" && !(key === "sort" && v === "relevance");
          });
          data.delete(key);
          kept.forEach(function (v) { data.append(key, v); });
        });
      });
    }

    // "/" focuses the search box, unless the user is typing somewhere.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || !box) return;
      var t = event.target;
      var tag = t && t.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) return;
      event.preventDefault();
      box.focus();
      box.select();
    });

    // A filter box for long facet lists: shows matching values, opening "show all".
    Array.prototype.forEach.call(document.querySelectorAll(".facet"), function (facet) {
      var wrap = facet.querySelector(".facet-filter");
      if (!wrap) return;
      var input = wrap.querySelector("input");
      var more = facet.querySelector(".facet-more");
      var items = facet.querySelectorAll(".facet-value");
      wrap.hidden = false;
      var openedByFilter = false;
      input.addEventListener("input", function () {
        var needle = input.value.trim().toLowerCase();
        if (more && needle && !more.open) {
          more.open = true;
          openedByFilter = true;
        } else if (more && !needle && openedByFilter) {
          more.open = false;
          openedByFilter = false;
        }
        facet.classList.toggle("is-filtering", needle !== "");
        Array.prototype.forEach.call(items, function (item) {
          var label = item.querySelector(".facet-label").textContent.toLowerCase();
          item.classList.toggle("is-hidden", needle !== "" && label.indexOf(needle) === -1);
        });
      });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
          input.value = "";
          input.dispatchEvent(new Event("input"));
        }
      });
    });
  });
})();
