// The parent's web chat: sends each message once (a client id makes a retry harmless)
// and redraws the conversation from the server after a reload.
(function () {
  "use strict";
  const list = document.getElementById("messages");
  const choices = document.getElementById("choices");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const status = document.getElementById("status");

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  // Phone numbers in the helpline's replies (999, 0808 800 5000, +44 7700 900123) become
  // tel: links, so a parent on a phone taps to call; the parent's own words stay plain text.
  const PHONE = /((?:\+|\b0)\d(?: ?\d){6,12}\b|\b999\b)/g;

  function fill(item, text, linked) {
    if (!linked) { item.textContent = text; return; }
    text.split(PHONE).forEach(function (part, index) {
      if (index % 2 === 0) { item.appendChild(document.createTextNode(part)); return; }
      const link = document.createElement("a");
      link.href = "tel:" + part.replace(/ /g, "");
      link.textContent = part;
      item.appendChild(link);
    });
  }

  function show(direction, text, dir) {
    const item = document.createElement("li");
    item.className = direction;
    fill(item, text, direction === "out");
    item.setAttribute("dir", direction === "in" ? "auto" : dir || "auto");
    list.appendChild(item);
  }

  // After each reply the answer buttons and the text box stay in view, and the next input
  // (the first answer button, or the text box when the question wants words) has the focus.
  function ready() {
    const next = choices.querySelector("button") || input;
    next.focus({ preventScroll: true });
    status.scrollIntoView({ block: "end" });
  }

  function offer(options, dir) {
    choices.replaceChildren();
    choices.setAttribute("dir", dir || "ltr");
    options.forEach(function (label, index) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = (index + 1) + ". " + label;
      button.addEventListener("click", function () { send(String(index + 1), label); });
      choices.appendChild(button);
    });
  }

  // The page's own words and direction follow the conversation's language.
  function dress(page, dir, lang) {
    if (page) {
      document.getElementById("text-label").textContent = page.message;
      document.getElementById("send").textContent = page.send;
      document.getElementById("danger").textContent = page.danger;
      if (page.title) { document.title = page.title; }
    }
    if (dir) { document.documentElement.setAttribute("dir", dir); }
    if (lang) { document.documentElement.setAttribute("lang", lang); }
  }

  function render(reply) {
    const lines = [reply.text];
    reply.choices.forEach(function (c, i) { lines.push((i + 1) + ". " + c); });
    show("out", lines.join("\n"), reply.dir);
    document.documentElement.setAttribute("lang", reply.lang);
    offer(reply.choices, reply.dir);
  }

  async function send(text, shown) {
    status.textContent = "";
    if (text) { show("in", shown || text); }
    choices.replaceChildren();
    const body = JSON.stringify({ id: newId(), text: text });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const response = await fetch("/chat/messages", {
          method: "POST", headers: { "Content-Type": "application/json" }, body: body,
          credentials: "same-origin",
        });
        const data = await response.json();
        if (!response.ok) { status.textContent = data.error || "Sorry, something went wrong."; return; }
        data.replies.forEach(render);
        dress(data.page, data.dir, data.replies.length ? data.replies[0].lang : null);
        ready();
        return;
      } catch (error) {
        status.textContent = "Connection lost, trying again…";
      }
    }
    status.textContent = "Sorry, we could not send that. Please try again.";
  }

  async function restore() {
    const response = await fetch("/chat/history", { credentials: "same-origin" });
    const data = await response.json();
    dress(data.page, data.dir, data.lang);
    data.lines.forEach(function (line) { show(line.direction, line.text, data.dir); });
    if (data.choices) { offer(data.choices, data.dir); }
    if (data.lines.length === 0) { await send(""); } else { ready(); }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  restore();
}());
