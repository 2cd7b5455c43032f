// Auto-reply rule admin: show only the fields that the chosen reply type and trigger use.
(function () {
  "use strict";
  const FIELDS = {
    text: ["text"],
    image: ["media_id"],
    voice: ["media_id"],
    video: ["media_id", "title", "description"],
    music: ["thumb_media_id", "title", "description", "music_url", "hq_music_url"],
    news: ["published_article", "articles"],
    transfer_customer_service: ["kf_account"],
  };
  const ALL = ["text", "media_id", "thumb_media_id", "title", "description", "music_url", "hq_music_url", "published_article", "articles", "kf_account"];

  // Works with Django's stock admin and django-unfold: an inline form's fields are found by their name prefix
  // ("contents-0-"), their boxes by the "field-<name>" class both themes put on them, and a line of several fields
  // (stock .form-row of .fieldBox, unfold .field-row of .field-line) is hidden when none of its fields is shown.
  function box(input, name) {
    return input.closest(`.field-${name}`) || input.closest(".fieldBox, .field-line, .form-row");
  }

  function hide(node, hidden) {
    node.hidden = hidden;
    node.style.display = hidden ? "none" : "";
  }

  function hideEmptyRows(rows) {
    for (const row of rows) {
      const boxes = row.querySelectorAll(".fieldBox, :scope > .field-line");
      if (boxes.length) hide(row, [...boxes].every((b) => b.hidden));
    }
  }

  function syncReply(select) {
    if (!select || select.name.includes("__prefix__")) return;
    const prefix = select.name.slice(0, -"reply_type".length);
    const shown = FIELDS[select.value] || ALL;
    const rows = new Set();
    for (const name of ALL) {
      const input = document.querySelector(`[name="${prefix}${name}"]`);
      const wrapper = input && box(input, name);
      if (!wrapper) continue;
      hide(wrapper, !shown.includes(name));
      const row = wrapper.parentElement && wrapper.parentElement.closest(".form-row, .field-row");
      if (row && row !== wrapper) rows.add(row);
    }
    hideEmptyRows(rows);
  }

  function syncTrigger() {
    const trigger = document.getElementById("id_trigger");
    if (!trigger) return;
    const show = {
      keywords: trigger.value === "keyword",
      match_type: trigger.value === "keyword",
      event_key: ["click", "scan", "event"].includes(trigger.value),
      event_name: trigger.value === "event",
    };
    const rows = new Set();
    for (const [name, visible] of Object.entries(show)) {
      const input = document.querySelector(`[name="${name}"]`);
      const wrapper = input ? box(input, name) : document.querySelector(`.field-${name}`);
      if (!wrapper) continue;
      hide(wrapper, !visible);
      const row = wrapper.parentElement && wrapper.parentElement.closest(".form-row, .field-row");
      if (row && row !== wrapper) rows.add(row);
    }
    hideEmptyRows(rows);
  }

  function syncAll() {
    syncTrigger();
    document.querySelectorAll("select[name$='-reply_type']").forEach(syncReply);
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("select[name$='-reply_type']")) syncReply(event.target);
    if (event.target.id === "id_trigger") syncTrigger();
  });
  document.addEventListener("formset:added", syncAll);
  document.addEventListener("DOMContentLoaded", syncAll);
})();

// News replies: ordered article rows (add, remove, move up/down); names are renumbered to the shown order.
(function () {
  "use strict";

  function renumber(box) {
    const name = box.dataset.name;
    const items = box.querySelectorAll(".reply-article");
    items.forEach((item, index) => {
      for (const input of item.querySelectorAll("input[data-part]")) {
        input.name = `${name}__${index}__${input.dataset.part}`;
      }
    });
    box.querySelector(`input[type=hidden][name="${name}"]`).value = String(items.length);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button");
    if (!button) return;
    const box = button.closest(".reply-articles");
    if (!box) return;
    const item = button.closest(".reply-article");
    const list = box.querySelector(".reply-articles-list");
    if (button.classList.contains("reply-article-add")) {
      const template = list.querySelector(".reply-article");
      const copy = template.cloneNode(true);
      copy.querySelectorAll("input[data-part]").forEach((input) => (input.value = ""));
      list.append(copy);
    } else if (button.classList.contains("reply-article-remove")) {
      if (list.querySelectorAll(".reply-article").length > 1) item.remove();
      else item.querySelectorAll("input[data-part]").forEach((input) => (input.value = ""));
    } else if (button.classList.contains("reply-article-up") && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (button.classList.contains("reply-article-down") && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    } else {
      return;
    }
    event.preventDefault();
    renumber(box);
  });
})();
