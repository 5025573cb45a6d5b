// Starts Redoc on the API reference page (templates/api/redoc.html) without inline script.
//
// Loaded before Redoc's bundle. Redoc writes its styles into <style> elements, some of them
// while its bundle loads; the page's Content-Security-Policy accepts styles from files and from
// elements carrying this script's nonce only. So every <style> element created on this page
// gets the nonce as it is created, before the browser checks it.
(function () {
  "use strict";
  var nonce = document.currentScript.nonce;
  var createElement = document.createElement;
  document.createElement = function (tagName, options) {
    var element = createElement.call(document, tagName, options);
    if (String(tagName).toLowerCase() === "style") {
      element.nonce = nonce;
    }
    return element;
  };
  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("redoc-container");
    var settings = JSON.parse(container.dataset.settings || "{}");
    settings.nonce = nonce;
    window.Redoc.init(container.dataset.specUrl, settings, container);
  });
})();
