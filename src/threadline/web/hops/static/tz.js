/* The callback window is typed in the customer's local time: send his UTC offset with it. */
(function () {
  "use strict";
  var field = document.getElementById("tz-offset");
  if (field) { field.value = String(new Date().getTimezoneOffset()); }
})();
