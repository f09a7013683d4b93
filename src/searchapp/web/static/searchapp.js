/* searchapp: niceties on top of a page that works without JavaScript.
   - facet checkboxes and the sort order apply at once, keeping the focus;
   - after Back, the controls show the results' state;
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
    // The control that applied keeps the keyboard focus on the next page (found
    // by name and value: the order of the values, and so their ids, change).
    var FOCUS_KEY = "searchapp-focus";
    document.addEventListener("change", function (event) {
      var el = event.target;
      if (!(el instanceof HTMLElement) || el.getAttribute("form") !== "search") return;
      if ((el.type === "checkbox") || el.classList.contains("auto-submit")) {
        try {
          sessionStorage.setItem(FOCUS_KEY, JSON.stringify({ name: el.name, value: el.type === "checkbox" ? el.value : null }));
        } catch (e) { /* storage refused: focus is only a nicety */ }
        document.body.classList.add("is-loading");
        submit();
      }
    });

    function restoreFocus() {
      var saved = null;
      try {
        saved = JSON.parse(sessionStorage.getItem(FOCUS_KEY) || "null");
        sessionStorage.removeItem(FOCUS_KEY);
      } catch (e) { return; }
      if (!saved || typeof saved.name !== "string") return;
      var candidates = document.querySelectorAll('[form="search"][name="' + CSS.escape(saved.name) + '"]');
      var target = Array.prototype.find.call(candidates, function (c) {
        return saved.value === null || c.value === saved.value;
      });
      if (!target) return;
      var more = target.closest("details");
      if (more) more.open = true;
      target.focus();
    }
    restoreFocus();

    // Back and Forward may show this page from the browser's cache with the
    // controls as they were last changed: show the state of these results.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      document.body.classList.remove("is-loading");
      Array.prototype.forEach.call(document.querySelectorAll('[form="search"]'), function (el) {
        if (el.type === "checkbox") el.checked = el.defaultChecked;
        else if (el.tagName === "SELECT") {
          Array.prototype.forEach.call(el.options, function (o) { o.selected = o.defaultSelected; });
        }
      });
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
