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

  function syncReply(inline) {
    const select = inline.querySelector("select[name$='-reply_type']");
    if (!select) return;
    const shown = FIELDS[select.value] || ALL;
    for (const name of ALL) {
      const input = inline.querySelector(`[name$='-${name}']`);
      if (!input) continue;
      const wrapper = input.closest(".fieldBox") || input.closest(".form-row");
      if (wrapper) wrapper.style.display = shown.includes(name) ? "" : "none";
    }
    for (const row of inline.querySelectorAll(".form-row")) {
      const boxes = row.querySelectorAll(".fieldBox");
      if (boxes.length) row.style.display = [...boxes].some((b) => b.style.display !== "none") ? "" : "none";
    }
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
    for (const [name, visible] of Object.entries(show)) {
      const row = document.querySelector(`.form-row.field-${name}`);
      if (row) row.style.display = visible ? "" : "none";
    }
  }

  function syncAll() {
    syncTrigger();
    document.querySelectorAll(".inline-related").forEach(syncReply);
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("select[name$='-reply_type']")) syncReply(event.target.closest(".inline-related"));
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
