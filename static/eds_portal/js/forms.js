// Forms of the portal, without inline script (CSP) and without any outside library.
//
// 1. Error summaries ([data-error-summary], templates/_components/form_errors.html) take the
//    focus when the page opens, and their links put the focus in the field they name (a link to
//    an id only scrolls in some browsers) with its label in view.
// 2. A form marked [data-unsaved-warning] asks before the page is left with changes not saved
//    (the browser's own "leave the page?" dialog); sending the form is not leaving it.
// 3. A search box ([data-variable-search]) filters the variables of the data request as one
//    types and says in its live region how many are shown.
// 4. Field errors that a partial answer (htmx) replaces flag their field (aria-invalid).
(function () {
  "use strict";

  // --- 1. Error summaries -------------------------------------------------------------------
  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) {
      return false;
    }
    var closed = field.closest("details:not([open])");
    if (closed) {
      closed.open = true;
    }
    // The label (or the legend of a group) above the field stays in view.
    var anchor = field.closest("fieldset.field--group, .field, .choice") || field;
    anchor.scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
    return true;
  }

  // Delegated: summaries that htmx swaps in later work as well.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (link && focusField(decodeURIComponent(link.getAttribute("href").slice(1)))) {
      event.preventDefault();
    }
  });

  // A summary that htmx swaps in later (the questions thread) takes the focus as well: the
  // summaries already there are marked as seen.
  function markSummariesSeen() {
    document.querySelectorAll("[data-error-summary]").forEach(function (summary) {
      summary.dataset.seen = "true";
    });
  }
  document.addEventListener("htmx:afterSettle", function () {
    var fresh = document.querySelector("[data-error-summary]:not([data-seen])");
    markSummariesSeen();
    if (fresh) {
      fresh.focus();
    }
  });

  // --- 2. Unsaved changes ------------------------------------------------------------------
  var dirtyForms = [];

  function setUpUnsavedWarning(form) {
    var state = { dirty: form.dataset.unsavedWarning === "dirty" };
    dirtyForms.push(state);
    function changed(event) {
      // Fields without a name (the variable search) are not part of what is saved.
      if (event.target && event.target.name) {
        state.dirty = true;
      }
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("submit", function () {
      state.dirty = false;
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (dirtyForms.some(function (state) { return state.dirty; })) {
      event.preventDefault();
      // Older browsers show the dialog only when returnValue is set; none shows its text.
      event.returnValue = "";
    }
  });

  // --- 3. Variable search ------------------------------------------------------------------
  function normalise(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setUpVariableSearch(box) {
    var input = box.querySelector("input[type='search']");
    var status = box.querySelector("[role='status']");
    var scope = document.getElementById(input.getAttribute("aria-controls"));
    var groups = Array.prototype.slice.call(scope.querySelectorAll("[data-variable-group]"));
    var openAtFirst = groups.map(function (group) { return group.open; });
    var timer = null;

    function announce(count) {
      var template = count === 0 ? status.dataset.none
        : count === 1 ? status.dataset.one : status.dataset.many;
      status.textContent = template.replace("{count}", String(count));
    }

    function filter() {
      var words = normalise(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      groups.forEach(function (group, index) {
        var inGroup = 0;
        group.querySelectorAll("[data-variable]").forEach(function (row) {
          var text = normalise(row.dataset.search || row.textContent);
          var match = words.every(function (word) { return text.indexOf(word) !== -1; });
          row.hidden = !match;
          if (match) {
            inGroup += 1;
          }
        });
        group.hidden = inGroup === 0;
        group.open = words.length ? inGroup > 0 : openAtFirst[index];
        shown += inGroup;
      });
      if (words.length) {
        announce(shown);
      } else {
        status.textContent = "";
      }
    }

    input.addEventListener("input", function () {
      // Announced once the typing pauses, not at every key.
      window.clearTimeout(timer);
      timer = window.setTimeout(filter, 150);
    });
    input.addEventListener("keydown", function (event) {
      // Enter in the search box would send the whole section.
      if (event.key === "Enter") {
        event.preventDefault();
        window.clearTimeout(timer);
        filter();
      }
    });
    box.hidden = false;
  }

  // --- 4. Field errors replaced by a partial answer ----------------------------------------
  // The live feasibility count (htmx) replaces each criterion's error list beside its field
  // ([data-live-errors-for], out of band): the field is flagged invalid, and described by its
  // errors, exactly while its list holds some.
  function syncLiveErrors() {
    document.querySelectorAll("[data-live-errors-for]").forEach(function (list) {
      var field = document.getElementById(list.dataset.liveErrorsFor);
      if (!field) {
        return;
      }
      var invalid = list.children.length > 0;
      var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
        return id && id !== list.id;
      });
      if (invalid) {
        field.setAttribute("aria-invalid", "true");
        ids.push(list.id);
      } else {
        field.removeAttribute("aria-invalid");
      }
      if (ids.length) {
        field.setAttribute("aria-describedby", ids.join(" "));
      } else {
        field.removeAttribute("aria-describedby");
      }
      var wrapper = field.closest(".field");
      if (wrapper) {
        wrapper.classList.toggle("field--error", invalid);
      }
    });
  }
  document.addEventListener("htmx:oobAfterSwap", syncLiveErrors);
  document.addEventListener("htmx:afterSettle", syncLiveErrors);

  function start() {
    // A link to a field (the project's list of missing items) puts the focus in the field;
    // otherwise an error summary takes it.
    var target = window.location.hash ? window.location.hash.slice(1) : "";
    var field = target ? document.getElementById(decodeURIComponent(target)) : null;
    var summary = document.querySelector("[data-error-summary]");
    if (field && field.matches("input, select, textarea")) {
      focusField(field.id);
    } else if (summary) {
      summary.focus();
    }
    markSummariesSeen();
    document.querySelectorAll("form[data-unsaved-warning]").forEach(setUpUnsavedWarning);
    document.querySelectorAll("[data-variable-search]").forEach(setUpVariableSearch);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
