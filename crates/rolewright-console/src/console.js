// rolewright console: small conveniences on top of plain HTML forms, which work without this.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to a page's error summary so that a screen reader announces it.
  const summary = document.querySelector(".error-summary[tabindex]");
  if (summary) summary.focus();
  // A page of work in progress (a job, a provisioning record) reloads itself until it is done;
  // without script, its Refresh link does the same.
  const refresh = document.querySelector("[data-refresh]");
  if (refresh) setTimeout(() => location.reload(), Number(refresh.dataset.refresh) * 1000);
  // The simulator's action completion: the service's actions, once its prefix and a colon are typed.
  for (const field of document.querySelectorAll("[data-actions]")) {
    const list = document.getElementById(field.getAttribute("list"));
    let service = null;
    field.addEventListener("input", async () => {
      const prefix = field.value.includes(":") ? field.value.split(":")[0].toLowerCase() : "";
      if (!prefix || prefix === service || !list) return;
      service = prefix;
      const reply = await fetch(`${field.dataset.actions}?service=${encodeURIComponent(prefix)}`);
      if (!reply.ok) return;
      const names = (await reply.text()).split("\n").filter(Boolean);
      list.replaceChildren(...names.map((n) => Object.assign(document.createElement("option"), { value: n })));
    });
  }
  // Validation as you type: fields that name a check endpoint are checked with the catalog's messages.
  for (const field of document.querySelectorAll("[data-check]")) {
    const message = document.getElementById(field.id + "-live");
    let timer;
    field.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const csrf = document.querySelector("input[name=csrf]");
        const body = new URLSearchParams({
          csrf: csrf ? csrf.value : "",
          placeholder: field.dataset.check,
          values: field.value,
        });
        const reply = await fetch("/console/create-role/check", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body,
        });
        if (!reply.ok || !message) return;
        const problems = await reply.json();
        message.textContent = problems.join(" ");
        field.setAttribute("aria-invalid", problems.length ? "true" : "false");
      }, 250);
    });
  }
});
