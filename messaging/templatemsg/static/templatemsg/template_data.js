// Template data: one input per keyword of the chosen template, and a live preview of the message.
// Keyed on field names ("template", "<data>__<keyword>"), so it works with any admin theme.
(function () {
  "use strict";

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderPreview(box) {
    const lines = box.querySelector(".template-card-lines");
    lines.replaceChildren();
    for (const input of box.querySelectorAll("input[data-keyword]")) {
      const line = el("div", { class: "template-card-line", "data-keyword": input.dataset.keyword });
      line.append(el("span", { style: "color:#888" }, input.dataset.label), " ", el("span", { class: "template-card-value" }, input.value));
      lines.append(line);
    }
  }

  function build(box, card) {
    const name = box.dataset.name;
    const holder = box.querySelector(".template-data-inputs");
    const kept = {};
    for (const input of holder.querySelectorAll("input[data-keyword]")) kept[input.dataset.keyword] = input.value;
    holder.querySelectorAll(".template-data-row").forEach((row) => row.remove());
    const help = holder.querySelector(".help:last-child");
    for (const keyword of card.keywords) {
      const row = el("div", { class: "template-data-row", style: "margin-bottom:8px" });
      const label = el("label", { for: `id_${name}__${keyword.name}`, style: "display:block;font-weight:600" }, keyword.label + " ");
      label.append(el("code", { style: "font-weight:normal;color:#888" }, keyword.name));
      const input = el("input", {
        type: "text",
        name: `${name}__${keyword.name}`,
        id: `id_${name}__${keyword.name}`,
        maxlength: String(card.max_chars),
        class: "vTextField",
        "data-keyword": keyword.name,
        "data-label": keyword.label,
      });
      input.value = kept[keyword.name] || "";
      row.append(label, input);
      holder.insertBefore(row, help);
    }
    holder.querySelector(".template-data-empty").hidden = card.keywords.length > 0;
    box.querySelector(".template-card-title").textContent = card.title;
    renderPreview(box);
  }

  function templateChanged(select) {
    const form = select.form || document;
    form.querySelectorAll(".template-data").forEach((box) => {
      if (!select.value) {
        build(box, { title: "", keywords: [], max_chars: box.dataset.maxChars });
        return;
      }
      fetch(box.dataset.cardUrl.replace("__pk__", encodeURIComponent(select.value)), { credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : null))
        .then((card) => card && build(box, card));
    });
  }

  document.addEventListener("input", (event) => {
    const box = event.target.closest && event.target.closest(".template-data");
    if (box && event.target.matches("input[data-keyword]")) renderPreview(box);
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches('select[name="template"]')) templateChanged(event.target);
  });
  // select2 (Django's autocomplete) announces a choice through jQuery only.
  window.addEventListener("load", () => {
    if (window.django && window.django.jQuery) {
      window.django.jQuery(document).on("select2:select select2:clear", 'select[name="template"]', (event) => templateChanged(event.target));
    }
  });
})();
