// Suggestions for the queue's account filter. The filter is a plain text box that works without
// this script (the server matches the whole name); here, as the user types, the box's <datalist>
// is filled with matching account names from the box's data-suggest-url, so the browser offers them.
(function () {
  "use strict";

  // Wait for a pause in typing, so a burst of keystrokes costs one request.
  var DELAY_MS = 200;

  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    var asked = "";
    var pending = null;

    function show(accounts) {
      list.replaceChildren.apply(list, accounts.map(function (account) {
        var option = document.createElement("option");
        option.value = account.name;
        return option;
      }));
    }

    function suggest() {
      var text = input.value.trim();
      if (text === asked) {
        return;
      }
      asked = text;
      if (pending) {
        pending.abort(); // an older answer must not replace a newer one
      }
      if (!text) {
        pending = null;
        show([]);
        return;
      }
      pending = new AbortController();
      var url = new URL(input.dataset.suggestUrl, window.location.href);
      url.searchParams.set("q", text);
      fetch(url, { headers: { Accept: "application/json" }, signal: pending.signal })
        .then(function (response) {
          return response.ok ? response.json() : [];
        })
        .then(show)
        .catch(function () {
          // Aborted or offline: the box still works as a plain text filter.
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(suggest, DELAY_MS);
    });
  }

  document.querySelectorAll("input[list][data-suggest-url]").forEach(attach);
})();
