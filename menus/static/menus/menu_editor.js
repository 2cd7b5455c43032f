/* The menu editor: a tree of buttons, a form for the selected one and a phone-shaped preview.
   The tree lives in the hidden #id_buttons_json field in WeChat's shape; the server checks every rule on save. */
(function () {
  "use strict";

  const KEY_TYPES = ["click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select"];
  const FIELDS_BY_TYPE = {
    view: ["url"],
    miniprogram: ["appid", "pagepath", "url"],
    media_id: ["media_id"],
    view_limited: ["media_id"],
    article_id: ["article_id"],
    article_view_limited: ["article_id"],
  };
  KEY_TYPES.forEach(function (t) { FIELDS_BY_TYPE[t] = ["key"]; });
  const CONSOLE_TYPES = ["text", "img", "photo", "voice", "video", "news"];
  const PICKED = ["key", "media_id", "article_id", "appid"];
  const LIMITS = { top: 16, sub: 60, key: 128, url: 1024 };

  function bytes(text) { return new TextEncoder().encode(text || "").length; }
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([k, v]) {
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function readJson(id, fallback) {
    const node = document.getElementById(id);
    if (!node) return fallback;
    try { return JSON.parse(node.textContent) || fallback; } catch (e) { return fallback; }
  }

  function start() {
    const root = document.getElementById("menu-editor");
    const field = document.getElementById("id_buttons_json");
    if (!root || !field) return;
    const config = readJson("menu-editor-config", {});
    const t = readJson("menu-i18n", {});
    const serverErrors = readJson("menu-errors-data", []);
    let tree;
    try { tree = JSON.parse(field.value || "[]"); } catch (e) { tree = []; }
    if (!Array.isArray(tree)) tree = [];
    let selected = tree.length ? [0] : null;
    let errors = serverErrors.slice();

    const treeList = document.getElementById("menu-tree");
    const detail = document.getElementById("menu-detail");
    const bar = document.getElementById("menu-phone-bar");
    const addTop = document.getElementById("menu-add-top");
    const account = document.getElementById("id_account");
    const kind = document.getElementById("id_kind");

    function accountId() { return account ? account.value : ""; }
    function at(path) { return path.length === 1 ? tree[path[0]] : (tree[path[0]].sub_button || [])[path[1]]; }
    function same(a, b) { return a && b && a.length === b.length && a.every(function (v, i) { return v === b[i]; }); }
    function errorsFor(path) { return errors.filter(function (e) { return same(e.path, path); }); }
    function save() { field.value = JSON.stringify(tree); }
    function changed() { root.dataset.dirty = "1"; errors = []; save(); render(); }

    function describe(b) {
      if (b.sub_button && b.sub_button.length) return "≡ " + b.sub_button.length;
      const type = (config.types || []).find(function (x) { return x.value === b.type; });
      const what = b.key || b.url || b.media_id || b.article_id || b.appid || "";
      return (type ? type.value : (b.type || "?")) + (what ? " · " + what : "");
    }

    function move(path, delta) {
      const list = path.length === 1 ? tree : tree[path[0]].sub_button;
      const i = path[path.length - 1], j = i + delta;
      if (j < 0 || j >= list.length) return;
      [list[i], list[j]] = [list[j], list[i]];
      selected = path.slice(0, -1).concat([j]);
      changed();
    }
    function remove(path) {
      if (path.length === 1) tree.splice(path[0], 1);
      else {
        tree[path[0]].sub_button.splice(path[1], 1);
        if (!tree[path[0]].sub_button.length) { delete tree[path[0]].sub_button; tree[path[0]].type = "click"; }
      }
      selected = tree.length ? [Math.min(path[0], tree.length - 1)] : null;
      changed();
    }
    function addSub(i) {
      const parent = tree[i];
      if (!parent.sub_button || !parent.sub_button.length) {
        ["type", "key", "url", "media_id", "article_id", "appid", "pagepath", "console_value"].forEach(function (k) { delete parent[k]; });
        parent.sub_button = [];
      }
      if (parent.sub_button.length >= 5) return;
      parent.sub_button.push({ type: "click", name: (t.newSub || "Sub-button") + " " + (parent.sub_button.length + 1), key: "" });
      selected = [i, parent.sub_button.length - 1];
      changed();
    }

    function overLimit(path, b) {
      return bytes(b.name) > (path.length === 1 ? LIMITS.top : LIMITS.sub) || bytes(b.key) > LIMITS.key || bytes(b.url) > LIMITS.url;
    }

    function rowFor(path, b) {
      const invalid = errorsFor(path).length > 0 || overLimit(path, b);
      const controls = [
        el("button", { type: "button", title: t.up, text: "↑", onclick: function (e) { e.stopPropagation(); move(path, -1); } }),
        el("button", { type: "button", title: t.down, text: "↓", onclick: function (e) { e.stopPropagation(); move(path, 1); } }),
        el("button", { type: "button", title: t.remove, text: "✕", class: "wxm-remove", onclick: function (e) { e.stopPropagation(); remove(path); } }),
      ];
      if (path.length === 1 && (!b.sub_button || b.sub_button.length < 5)) {
        controls.unshift(el("button", { type: "button", class: "wxm-add-sub", title: t.addSub, text: "+", onclick: function (e) { e.stopPropagation(); addSub(path[0]); } }));
      }
      return el("div", {
        class: "wxm-row" + (same(selected, path) ? " wxm-selected" : "") + (invalid ? " wxm-invalid" : ""),
        "data-path": path.join("."),
        onclick: function () { selected = path; render(); },
      }, [el("span", { class: "wxm-name", text: b.name || "—" }), el("span", { class: "wxm-what", text: describe(b) })].concat(controls));
    }

    function renderTree() {
      treeList.replaceChildren();
      errors.filter(function (e) { return !e.path.length; }).forEach(function (e) {
        treeList.appendChild(el("li", { class: "wxm-errors", text: e.message }));
      });
      tree.forEach(function (b, i) {
        const item = el("li", {}, [rowFor([i], b)]);
        errorsFor([i]).forEach(function (e) { item.appendChild(el("div", { class: "wxm-errors", text: e.message })); });
        if (b.sub_button && b.sub_button.length) {
          const subs = el("ol", { class: "wxm-subtree" });
          b.sub_button.forEach(function (s, j) {
            const sub = el("li", {}, [rowFor([i, j], s)]);
            errorsFor([i, j]).forEach(function (e) { sub.appendChild(el("div", { class: "wxm-errors", text: e.message })); });
            subs.appendChild(sub);
          });
          item.appendChild(subs);
        }
        treeList.appendChild(item);
      });
      addTop.disabled = tree.length >= 3;
    }

    function renderPhone() {
      bar.replaceChildren(el("span", { class: "wxm-kbd", "aria-hidden": "true", text: "⌨" }));
      tree.forEach(function (b, i) {
        const open = selected && selected[0] === i && b.sub_button && b.sub_button.length;
        const top = el("div", {
          class: "wxm-top" + (open ? " wxm-open" : "") + (same(selected, [i]) ? " wxm-selected" : "") + (errorsFor([i]).length || overLimit([i], b) ? " wxm-invalid" : ""),
          "data-path": String(i),
          onclick: function () { selected = [i]; render(); },
        });
        if (b.sub_button && b.sub_button.length) {
          const subs = el("div", { class: "wxm-subs" });
          b.sub_button.forEach(function (s, j) {
            subs.appendChild(el("div", {
              class: "wxm-sub" + (same(selected, [i, j]) ? " wxm-selected" : "") + (errorsFor([i, j]).length || overLimit([i, j], s) ? " wxm-invalid" : ""),
              "data-path": i + "." + j,
              text: s.name || "—",
              onclick: function (e) { e.stopPropagation(); selected = [i, j]; render(); },
            }));
          });
          top.appendChild(subs);
        }
        top.appendChild(el("span", { class: "wxm-top-name" }, [
          b.sub_button && b.sub_button.length ? el("span", { class: "wxm-lines", text: "≡ " }) : null,
          document.createTextNode(b.name || "—"),
        ]));
        bar.appendChild(top);
      });
      const title = document.getElementById("menu-phone-title");
      if (title && account && account.selectedIndex > 0) title.textContent = account.options[account.selectedIndex].text;
    }

    function picker(name, input) {
      if (PICKED.indexOf(name) < 0 || !config.pickerUrl) return null;
      const list = el("datalist", { id: "menu-pick-" + name });
      function load() {
        if (!accountId()) return;
        const url = config.pickerUrl.replace("FIELD", name) + "?account=" + encodeURIComponent(accountId()) + "&q=" + encodeURIComponent(input.value);
        fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { results: [] }; }).then(function (data) {
          list.replaceChildren.apply(list, (data.results || []).map(function (c) { return el("option", { value: c.value, text: c.label }); }));
        });
      }
      input.setAttribute("list", list.id);
      input.addEventListener("focus", load);
      input.addEventListener("input", load);
      return list;
    }

    function ruleLink(b) {
      if (b.type !== "click" || !b.key) return null;
      const rules = (config.rules || {})[accountId()] || {};
      const rule = rules[b.key];
      if (rule) return el("p", { class: "wxm-note", id: "menu-rule-link" }, [document.createTextNode(t.rule + ": "), el("a", { href: rule.url, target: "_blank", text: rule.name })]);
      const add = config.ruleAddUrl + "?trigger=click&event_key=" + encodeURIComponent(b.key) + "&account=" + encodeURIComponent(accountId()) + "&name=" + encodeURIComponent(b.name || b.key);
      return el("p", { class: "wxm-note", id: "menu-rule-link" }, [document.createTextNode(t.noRule + " "), el("a", { href: add, target: "_blank", text: t.addRule })]);
    }

    function input(path, b, name, label, limit) {
      const count = el("span", { class: "wxm-count" });
      const box = el("input", { type: "text", id: "menu-field-" + name, name: "menu-field-" + name, value: b[name] || "", autocomplete: "off" });
      function counter() {
        if (!limit) return;
        const n = bytes(box.value);
        count.textContent = n + " / " + limit + " " + (t.bytes || "bytes");
        count.className = "wxm-count" + (n > limit ? " wxm-over" : "");
      }
      // Typing redraws the list and the preview, never this form: the field keeps its focus.
      box.addEventListener("input", function () {
        b[name] = box.value;
        root.dataset.dirty = "1";
        errors = errors.filter(function (e) { return !(same(e.path, path) && e.field === name); });
        save();
        counter();
        renderTree();
        renderPhone();
        if (name === "key") {
          const old = document.getElementById("menu-rule-link"), fresh = ruleLink(b);
          if (old && fresh) old.replaceWith(fresh);
          else if (old) old.remove();
          else if (fresh) detail.appendChild(fresh);
        }
      });
      counter();
      return [el("label", { for: box.id }, [document.createTextNode(label), count]), box, picker(name, box)];
    }

    function renderDetail() {
      detail.replaceChildren();
      if (!selected || !at(selected)) { detail.appendChild(el("p", { class: "wxm-note", text: t.select })); return; }
      const path = selected, b = at(path);
      const nodes = input(path, b, "name", t.name, path.length === 1 ? LIMITS.top : LIMITS.sub);
      if (path.length === 1 && b.sub_button && b.sub_button.length) {
        nodes.push(el("p", { class: "wxm-note", text: t.hasSubs }));
      } else {
        const select = el("select", { id: "menu-field-type", name: "menu-field-type" });
        if (CONSOLE_TYPES.indexOf(b.type) >= 0) select.appendChild(el("option", { value: b.type, text: b.type, selected: true }));
        if (!b.type) select.appendChild(el("option", { value: "", text: t.choose, selected: true }));
        (config.types || []).forEach(function (x) { select.appendChild(el("option", { value: x.value, text: x.label, selected: x.value === b.type })); });
        select.addEventListener("change", function () { b.type = select.value; changed(); });
        nodes.push(el("label", { for: select.id, text: t.type }), select);
        if (CONSOLE_TYPES.indexOf(b.type) >= 0) nodes.push(el("p", { class: "wxm-errors", text: t.console }));
        (FIELDS_BY_TYPE[b.type] || []).forEach(function (name) {
          const label = name === "url" && b.type === "miniprogram" ? t.fallbackUrl : t[name];
          nodes.push.apply(nodes, input(path, b, name, label, name === "key" ? LIMITS.key : name === "url" ? LIMITS.url : 0));
        });
        nodes.push(ruleLink(b));
      }
      errorsFor(path).forEach(function (e) { nodes.push(el("p", { class: "wxm-errors", text: e.message })); });
      nodes.forEach(function (n) { if (n) detail.appendChild(n); });
    }

    function render() { renderTree(); renderPhone(); renderDetail(); }

    addTop.addEventListener("click", function () {
      if (tree.length >= 3) return;
      tree.push({ type: "click", name: (t.newButton || "Button") + " " + (tree.length + 1), key: "" });
      selected = [tree.length - 1];
      changed();
    });
    if (account) account.addEventListener("change", render);
    if (kind) {
      const rule = function () {
        const rows = document.querySelectorAll(".field-tag_id, .field-client_platform_type, .form-row.field-tag_id");
        rows.forEach(function (r) { r.style.display = kind.value === "conditional" ? "" : "none"; });
      };
      kind.addEventListener("change", rule);
      rule();
    }
    const form = field.form;
    if (form) form.addEventListener("submit", save);
    save();
    render();
  }

  // While the publish task runs, look again every 2 s (up to a minute) for WeChat's answer.
  function watchPublish() {
    const status = document.getElementById("menu-status");
    if (!status || ["pending", "syncing"].indexOf(status.dataset.status) < 0) return;
    const tries = Number(sessionStorage.getItem("menu-publish-polls") || 0);
    if (tries >= 30) { sessionStorage.removeItem("menu-publish-polls"); return; }
    sessionStorage.setItem("menu-publish-polls", String(tries + 1));
    setTimeout(function () { const editor = document.getElementById("menu-editor");
      if (!editor || !editor.dataset.dirty) window.location.reload(); }, 2000);
  }

  function ready() {
    const status = document.getElementById("menu-status");
    if (status && ["pending", "syncing"].indexOf(status.dataset.status) < 0) sessionStorage.removeItem("menu-publish-polls");
    start();
    watchPublish();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
