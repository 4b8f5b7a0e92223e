// Idle-timeout warning (R-SEC-07). The server logs an idle session out after
// <body data-idle-timeout="seconds">; two minutes before that, offer to stay signed in.
(function () {
  "use strict";
  const body = document.body;
  const timeout = parseInt(body.dataset.idleTimeout || "0", 10);
  const keepaliveUrl = body.dataset.keepaliveUrl;
  if (!timeout || !keepaliveUrl) return;
  const warnBefore = Math.min(120, Math.floor(timeout / 2));
  let warnTimer = null;
  let endTimer = null;
  let banner = null;

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function hideBanner() {
    if (banner) banner.remove();
    banner = null;
  }

  function showBanner() {
    if (banner) return;
    banner = document.createElement("div");
    banner.className = "msg msg-warning idle-warning";
    banner.setAttribute("role", "alertdialog");
    banner.setAttribute("aria-live", "assertive");
    const text = document.createElement("p");
    text.textContent = body.dataset.idleMessage || "Phiên làm việc sắp hết hạn do không hoạt động.";
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = body.dataset.idleStay || "Tiếp tục phiên làm việc";
    button.addEventListener("click", stay);
    banner.append(text, button);
    const main = document.querySelector("main") || body;
    main.prepend(banner);
    button.focus();
  }

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(showBanner, (timeout - warnBefore) * 1000);
    // The server has already ended the session: reloading shows the login page.
    endTimer = setTimeout(() => window.location.reload(), (timeout + 1) * 1000);
  }

  function stay() {
    fetch(keepaliveUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual", // an already-expired session answers with a redirect to the login page
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
    }).then((response) => {
      if (response.ok) {
        hideBanner();
        schedule();
      } else {
        window.location.reload();
      }
    });
  }

  // Any htmx request is activity on the server too.
  document.addEventListener("htmx:afterRequest", () => {
    hideBanner();
    schedule();
  });
  schedule();
})();
