"use strict";
// The media library picker: a click puts the media_id in the field (a line more when several are taken) and shows
// it; the choices follow the account and, in an auto-reply, the reply type chosen on the same form.
(function () {
  const KIND_FOR_REPLY = { image: ["image"], voice: ["voice"], video: ["video"], music: ["thumb", "image"] };

  function pickerAccount() {
    const select = document.getElementById("id_account");
    return select ? select.value : "";
  }

  function replyKinds(picker) {
    const group = picker.closest(".inline-related, fieldset, form");
    const type = group ? group.querySelector("select[name$='reply_type']") : null;
    if (!type || picker.querySelector("[name$='thumb_media_id']")) return null;
    return KIND_FOR_REPLY[type.value] || [];
  }

  function refresh(picker) {
    const account = pickerAccount();
    const kinds = replyKinds(picker);
    picker.querySelectorAll(".media-picker-choice").forEach(function (choice) {
      const accountOk = !account || choice.dataset.account === account;
      const kindOk = !kinds || kinds.includes(choice.dataset.kind);
      choice.hidden = !(accountOk && kindOk);
    });
  }

  function choose(choice) {
    const picker = choice.closest(".media-picker");
    const input = picker.querySelector(".media-picker-input");
    const current = picker.querySelector(".media-picker-current");
    const preview = choice.querySelector(".media-preview");
    if (picker.dataset.multiple) {
      const lines = input.value.split("\n").map((s) => s.trim()).filter(Boolean);
      if (!lines.includes(choice.dataset.mediaId)) lines.push(choice.dataset.mediaId);
      input.value = lines.join("\n");
      if (preview) current.appendChild(preview.cloneNode(true));
    } else {
      input.value = choice.dataset.mediaId;
      current.replaceChildren();
      if (preview) current.appendChild(preview.cloneNode(true));
    }
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    const choice = event.target.closest(".media-picker-choice");
    if (choice) {
      event.preventDefault();
      choose(choice);
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.id === "id_account" || (event.target.name || "").endsWith("reply_type")) {
      document.querySelectorAll(".media-picker").forEach(refresh);
    }
  });
  document.addEventListener("toggle", function (event) {
    const picker = event.target.closest && event.target.closest(".media-picker");
    if (picker) refresh(picker);
  }, true);
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".media-picker").forEach(refresh);
  });
})();
