// The dashboard's only script of our own (no inline script: the CSP allows 'self' only).
// htmx sends the CSRF token from the page's meta tag with every request it makes.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
  }
});
// A refused form (4xx) shows its message in the page's message area instead of nothing.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status >= 400 && status < 500) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// A message shown beside a form (a refusal or a confirmation) takes the focus, so that it is
// seen and read out where the officer is working, not at the top of the page.
function focusMessage(box) {
  if (box && box.textContent.trim()) {
    box.focus({ preventScroll: true });
    box.scrollIntoView({ block: "nearest" });
  }
}
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.detail.target.classList.contains("form-message")) {
    focusMessage(event.detail.target);
  }
});
document.addEventListener("DOMContentLoaded", function () {
  focusMessage(document.querySelector("[data-focus]"));
});
