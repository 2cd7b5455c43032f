// Show only the fields a choice uses. A controlling <select> or radio group carries
// data-conditional-fields='{"value": ["field", ...], ...}' and data-conditional-all='["field", ...]';
// fields are found by their input's name, so the same rules work with any admin theme.
(function () {
  "use strict";

  function container(input, name) {
    // Django's stock admin and django-unfold both mark a field's box with "field-<name>".
    const box = input.closest(`.field-${name}`) || input.closest(".fieldBox, .form-row, .field-line") || input.parentElement;
    // Django's line of several fields wraps each box with its help text: hide them together.
    const wrapper = box.parentElement;
    if (box.classList.contains("fieldBox") && wrapper && wrapper.parentElement && wrapper.parentElement.classList.contains("form-multiline")) {
      return wrapper;
    }
    return box;
  }

  // The attribute says why; the inline style wins over any theme's display rule.
  function hide(node, hidden) {
    node.hidden = hidden;
    node.style.display = hidden ? "none" : "";
  }

  function controllerValue(controller) {
    if (controller.type === "radio") {
      const checked = document.querySelector(`input[name="${controller.name}"]:checked`);
      return checked ? checked.value : "";
    }
    return controller.value;
  }

  function sync(controller) {
    const rules = JSON.parse(controller.dataset.conditionalFields || "{}");
    const all = JSON.parse(controller.dataset.conditionalAll || "[]");
    const shown = rules[controllerValue(controller)] || [];
    const rows = new Set();
    for (const name of all) {
      const inputs = document.querySelectorAll(`[name="${name}"], [name="${name}_0"], [data-field="${name}"]`);
      for (const input of inputs) {
        const box = container(input, name);
        if (!box) continue;
        hide(box, !shown.includes(name));
        const row = box.parentElement && box.parentElement.closest(".form-row");
        if (row && row !== box) rows.add(row);
      }
    }
    // A row of several fields (Django's fieldBox line) disappears when none of them is shown.
    for (const row of rows) {
      let boxes = row.querySelectorAll(".form-multiline > div");
      if (!boxes.length) boxes = row.querySelectorAll(".fieldBox, .field-line");
      if (boxes.length) hide(row, [...boxes].every((b) => b.hidden));
    }
  }

  function syncAll() {
    document.querySelectorAll("[data-conditional-fields]").forEach(sync);
  }

  function onChange(event) {
    const target = event.target;
    if (target && target.matches && target.matches("[name]")) {
      document.querySelectorAll(`[data-conditional-fields][name="${target.name}"]`).forEach(sync);
    }
  }

  document.addEventListener("change", onChange);
  document.addEventListener("DOMContentLoaded", syncAll);
  if (document.readyState !== "loading") syncAll();
  window.conditionalFieldsSync = syncAll;
})();
