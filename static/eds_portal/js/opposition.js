// The public opposition pages, without inline script (CSP) and without any outside library.
// Everything here is an enhancement: the pages work without it.
//
// 1. The association picker ([data-association-picker], templates/access/_association_picker.html):
//    a search box filters the associations as one types (accents and case ignored, every word
//    must match), its live region says how many are shown, and the "Chosen:" line follows the
//    ticked boxes.
// 2. Copy buttons ([data-copy], the receipt number): the text goes to the clipboard and a live
//    region says so (or, if the browser refuses, that the number is selected to copy by hand).
// 3. Fields that do not apply to the answers given ([data-hide-when="name=value"]: your own name
//    when you object for yourself, the projects when you object to all reuse, the address you
//    did not choose for the answer) are hidden, so that the form is shorter on a phone.
(function () {
  "use strict";

  function normalise(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // --- 1. Association picker ---------------------------------------------------------------
  function setUpPicker(picker) {
    var search = picker.querySelector("[data-picker-search]");
    var input = search.querySelector("input[type='search']");
    var status = search.querySelector("[role='status']");
    var chosen = picker.querySelector("[data-picker-chosen]");
    var options = Array.prototype.slice.call(picker.querySelectorAll("[data-picker-option]"));
    var timer = null;

    function announce(count) {
      var template = count === 0 ? status.dataset.none
        : count === 1 ? status.dataset.one : status.dataset.many;
      status.textContent = template.replace("{count}", String(count));
    }

    function filter() {
      var words = normalise(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      options.forEach(function (option) {
        var text = normalise(option.dataset.search || option.textContent);
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !match;
        if (match) {
          shown += 1;
        }
      });
      if (words.length) {
        announce(shown);
      } else {
        status.textContent = "";
      }
    }

    function showChosen() {
      var names = options.filter(function (option) {
        return option.querySelector("input[type='checkbox']").checked;
      }).map(function (option) {
        return option.querySelector("label").textContent.trim();
      });
      chosen.textContent = names.length
        ? chosen.dataset.label + " " + names.join(", ")
        : chosen.dataset.empty;
    }

    input.addEventListener("input", function () {
      // Announced once the typing pauses, not at every key.
      window.clearTimeout(timer);
      timer = window.setTimeout(filter, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        // Enter in the search box would send the whole form.
        event.preventDefault();
        window.clearTimeout(timer);
        filter();
      } else if (event.key === "Escape" && input.value) {
        input.value = "";
        filter();
      }
    });
    picker.addEventListener("change", function (event) {
      if (event.target.type === "checkbox") {
        showChosen();
      }
    });
    search.hidden = false;
  }

  // --- 2. Copy buttons ---------------------------------------------------------------------
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function setUpCopy(button) {
    var source = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!source || !status) {
      return;
    }
    function say(text) {
      // Emptied first, so that a second copy is announced again.
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      var copied = navigator.clipboard && window.isSecureContext
        ? navigator.clipboard.writeText(text)
        : Promise.reject(new Error("no clipboard"));
      copied.then(function () {
        say(button.dataset.copied);
      }, function () {
        selectText(source);
        var done = false;
        try {
          done = document.execCommand("copy");
        } catch (error) {
          done = false;
        }
        say(done ? button.dataset.copied : button.dataset.failed);
      });
    });
    button.hidden = false;
  }

  // --- 3. Fields that do not apply --------------------------------------------------------
  function setUpConditionalFields(form) {
    var blocks = Array.prototype.slice.call(form.querySelectorAll("[data-hide-when]"));
    function update() {
      blocks.forEach(function (block) {
        var rule = block.dataset.hideWhen.split("=");
        var chosen = form.querySelector("input[name='" + rule[0] + "']:checked");
        // A field with an error stays in view, whatever the answers.
        block.hidden = Boolean(chosen) && chosen.value === rule[1]
          && !block.querySelector(".field--error");
      });
    }
    form.addEventListener("change", update);
    update();
  }

  function start() {
    document.querySelectorAll("[data-association-picker]").forEach(setUpPicker);
    document.querySelectorAll("button[data-copy]").forEach(setUpCopy);
    var forms = [];
    document.querySelectorAll("[data-hide-when]").forEach(function (block) {
      var form = block.closest("form");
      if (form && forms.indexOf(form) === -1) {
        forms.push(form);
        setUpConditionalFields(form);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
