// Conveniences only: every page works without this script.
"use strict";

// Copies a key's secret to the clipboard.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy)?.textContent ?? "";
  navigator.clipboard?.writeText(text).then(() => { button.textContent = "Copied"; }, () => {});
});

// Refreshes a template's preview while its text is typed.
const body = document.getElementById("template-body");
if (body) {
  let timer;
  body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const url = body.dataset.preview + "?body=" + encodeURIComponent(body.value);
      const answer = await fetch(url, { credentials: "same-origin" });
      if (!answer.ok) return;
      const preview = await answer.json();
      const problem = document.getElementById("preview-error");
      problem.hidden = !preview.error;
      problem.textContent = preview.error ?? "";
      document.getElementById("preview-text").textContent = preview.text ?? "";
      document.getElementById("preview-encoding").textContent = preview.encoding ?? "";
      document.getElementById("preview-segments").textContent = preview.segments ?? "";
    }, 250);
  });
}
