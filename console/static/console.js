// Progressive enhancement only: every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: shown only when the clipboard can be reached from script.
  for (const btn of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(btn.dataset.copy);
    const status = document.getElementById(btn.dataset.status);
    if (!field) continue;
    btn.hidden = false;
    if (status) status.textContent = "";
    btn.addEventListener("click", async () => {
      const label = btn.querySelector("span");
      try {
        await navigator.clipboard.writeText(field.value);
      } catch {
        field.focus();
        field.select();
        if (status) status.textContent = "Press Ctrl+C (⌘C) to copy.";
        return;
      }
      if (label) label.textContent = "Copied";
      if (status) status.textContent = "Copied to the clipboard.";
      setTimeout(() => { if (label) label.textContent = "Copy"; }, 2500);
    });
  }

  // Selecting the whole token on focus makes a manual copy one keystroke.
  for (const field of document.querySelectorAll(".secret-input")) {
    field.addEventListener("focus", () => field.select());
  }

  // "Select all" checkboxes of bulk forms.
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    const boxes = () => document.querySelectorAll(`input[name="${all.dataset.selectAll}"]`);
    all.hidden = false;
    all.addEventListener("change", () => { for (const b of boxes()) b.checked = all.checked; });
  }

  // On a phone tables show one row per card: label each cell with its column's name.
  for (const table of document.querySelectorAll("table.table")) {
    const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((td, i) => { if (names[i] && td.colSpan === 1) td.dataset.label = names[i]; });
    }
  }

  // Grant rows: the project list matters only for "Chosen projects".
  const sync = (index) => {
    const chosen = document.querySelector(`input[data-scope="${index}"][value="projects"]`);
    const list = document.getElementById(`projects_${index}`);
    if (chosen && list) list.hidden = !chosen.checked;
  };
  for (const radio of document.querySelectorAll("input[data-scope]")) {
    sync(radio.dataset.scope);
    radio.addEventListener("change", () => sync(radio.dataset.scope));
  }

  // Grant rows: what the chosen permission set grants, from the list the server wrote below.
  for (const select of document.querySelectorAll("select[data-grants-hint]")) {
    const hint = document.getElementById(select.dataset.grantsHint);
    select.addEventListener("change", () => {
      const grants = document.getElementById(`grants-of-${select.value}`);
      if (hint) hint.textContent = grants ? grants.textContent : "Choose a set to see what it grants.";
    });
  }
});

// The password reset page: the code travels in the link's fragment, which never reaches a
// server; copy it into the form, hide the field, and drop it from the address bar and history.
document.addEventListener("DOMContentLoaded", () => {
  const field = document.querySelector("[data-reset-code]");
  const code = location.hash.slice(1);
  if (!field || !code) return;
  field.querySelector("input").value = code;
  field.hidden = true;
  history.replaceState(null, "", location.pathname);
});
