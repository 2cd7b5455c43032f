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
