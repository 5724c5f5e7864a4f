// The interactive page of openrpc.DocsHandler: it reads the server's OpenRPC
// document with rpc.discover, lists its methods and lets a person call them
// over HTTP POST or a WebSocket.
//
// Safety rules this file keeps (see docs.go):
//   - requests go only to the endpoint on this page's own origin, which the
//     page's Content-Security-Policy (connect-src 'self') enforces as well;
//   - credentials travel in headers (HTTP) or in rpc.authenticate (WebSocket),
//     never in URLs, and are never logged;
//   - credentials live in memory, or in sessionStorage when asked, never in
//     localStorage;
//   - everything from the server is put in the page as text (textContent,
//     value), never as HTML.
"use strict";

(() => {
  const STORE_KEY = "warden-docs-credentials";
  const endpointPath = document.querySelector('meta[name="warden-endpoint"]').content;
  const endpoint = new URL(endpointPath, location.href);
  if (endpoint.origin !== location.origin) {
    throw new Error("the endpoint must be on this page's origin");
  }
  const wsURL = (endpoint.protocol === "https:" ? "wss://" : "ws://") + endpoint.host + endpoint.pathname + endpoint.search;

  const state = {
    doc: null,
    schemes: {}, // name -> scheme object from components.x-security-schemes
    creds: {}, // scheme name -> credential (token or key)
    signIn: null, // the method marked x-sign-in
    nextId: 1,
    ws: null,
    wsOpen: null, // a promise of the open socket
    wsPending: new Map(),
    wsSignedIn: {}, // scheme -> credential bound to the open socket
  };

  // ---- small DOM helpers: text only, never HTML ----

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const $ = (id) => document.getElementById(id);
  const pretty = (v) => JSON.stringify(v, null, 2);
  const idFor = (name) => "m-" + name.replace(/[^A-Za-z0-9_-]/g, (c) => "_" + c.charCodeAt(0).toString(16));

  function notice(text, withAuthorize) {
    const n = $("notice");
    n.replaceChildren(el("span", { text }));
    if (withAuthorize) n.append(" ", el("button", { type: "button", class: "primary", text: "Authorize", onclick: openAuth }));
    n.hidden = !text;
  }

  // ---- credentials ----

  function loadCreds() {
    try {
      const raw = sessionStorage.getItem(STORE_KEY);
      if (raw) {
        state.creds = JSON.parse(raw) || {};
        $("auth-keep").checked = true;
      }
    } catch {
      state.creds = {};
    }
  }

  function saveCreds() {
    try {
      if ($("auth-keep").checked && Object.keys(state.creds).length) sessionStorage.setItem(STORE_KEY, JSON.stringify(state.creds));
      else sessionStorage.removeItem(STORE_KEY);
    } catch {
      // storage may be disabled: memory is enough
    }
    showAuthStatus();
  }

  function showAuthStatus(extra) {
    const names = Object.keys(state.creds);
    $("authorize").classList.toggle("authorized", names.length > 0 && !extra);
    $("authorize").classList.toggle("stale", !!extra);
    $("auth-status").textContent = extra || (names.length ? "Authorized: " + names.join(", ") : "Not authorized");
  }

  // The schemes the page can take a credential for: declared ones, or a
  // bearer token when the document is not known yet (it is protected).
  function knownSchemes() {
    if (Object.keys(state.schemes).length) return state.schemes;
    return { bearer: { type: "http", scheme: "bearer" } };
  }

  // header returns the [name, value] a credential travels in, or null when
  // the scheme cannot carry it in a header.
  function header(scheme, value) {
    if (!scheme || value === undefined || value === "") return null;
    if (scheme.type === "apiKey") return scheme.in === "header" && scheme.name ? [scheme.name, value] : null;
    if (scheme.type === "http") {
      const s = scheme.scheme || "bearer";
      return ["Authorization", s.charAt(0).toUpperCase() + s.slice(1).toLowerCase() + " " + value];
    }
    if (scheme.type === "oauth2" || scheme.type === "openIdConnect") return ["Authorization", "Bearer " + value];
    return null;
  }

  // schemesFor names the schemes whose credentials a call of method carries:
  // those its requirement names. rpc.discover, which the document does not
  // list, gets every credential.
  function schemesFor(method) {
    if (!method) return Object.keys(state.creds);
    const names = new Set();
    for (const alt of method["x-security"] || []) for (const n of Object.keys(alt)) names.add(n);
    return [...names].filter((n) => state.creds[n]);
  }

  function headersFor(method) {
    const h = { "Content-Type": "application/json" };
    const schemes = knownSchemes();
    for (const n of schemesFor(method)) {
      const kv = header(schemes[n], state.creds[n]);
      if (kv) h[kv[0]] = kv[1];
    }
    return h;
  }

  // ---- transports ----

  async function callHTTP(method, name, params) {
    const req = { jsonrpc: "2.0", id: state.nextId++, method: name };
    if (params !== undefined) req.params = params;
    const headers = headersFor(method);
    const start = performance.now();
    const res = await fetch(endpoint.href, {
      method: "POST",
      headers,
      body: JSON.stringify(req),
      credentials: "same-origin",
      redirect: "error",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    const text = await res.text();
    const ms = performance.now() - start;
    let body;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return { req, headers, status: "HTTP " + res.status + (res.statusText ? " " + res.statusText : ""), ms, body };
  }

  function wsStatus(text) {
    $("ws-status").textContent = text;
  }

  function openSocket() {
    if (state.wsOpen) return state.wsOpen;
    state.wsOpen = new Promise((resolve, reject) => {
      wsStatus("WebSocket: connecting…");
      const ws = new WebSocket(wsURL);
      state.ws = ws;
      state.wsSignedIn = {};
      ws.addEventListener("open", () => {
        wsStatus("WebSocket: connected, anonymous");
        resolve(ws);
      });
      ws.addEventListener("message", (ev) => {
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          return;
        }
        for (const m of Array.isArray(msg) ? msg : [msg]) {
          const p = m && m.id !== undefined ? state.wsPending.get(m.id) : null;
          if (p) {
            state.wsPending.delete(m.id);
            p(m);
          }
        }
      });
      ws.addEventListener("close", (ev) => {
        if (state.ws === ws) {
          state.ws = null;
          state.wsOpen = null;
          state.wsSignedIn = {};
          wsStatus("WebSocket: closed" + (ev.code && ev.code !== 1000 && ev.code !== 1005 ? " (" + ev.code + ")" : ""));
        }
        for (const [id, p] of state.wsPending) {
          state.wsPending.delete(id);
          p({ closed: true });
        }
        reject(new Error("the WebSocket closed"));
      });
    });
    state.wsOpen.catch(() => {});
    return state.wsOpen;
  }

  function closeSocket() {
    if (state.ws) state.ws.close(1000);
    state.ws = null;
    state.wsOpen = null;
    state.wsSignedIn = {};
  }

  async function sendWS(req) {
    const ws = await openSocket();
    return new Promise((resolve) => {
      state.wsPending.set(req.id, resolve);
      ws.send(JSON.stringify(req));
    });
  }

  // syncSocket signs the open socket in with every credential it does not
  // carry yet, through rpc.authenticate.
  async function syncSocket() {
    const hasAuthenticate = state.doc && state.doc.methods.some((m) => m.name === "rpc.authenticate");
    for (const [name, value] of Object.entries(state.creds)) {
      if (state.wsSignedIn[name] === value) continue;
      if (!hasAuthenticate) {
        wsStatus("WebSocket: this server has no rpc.authenticate; calls go anonymous");
        return;
      }
      const res = await sendWS({ jsonrpc: "2.0", id: state.nextId++, method: "rpc.authenticate", params: { token: value, scheme: name } });
      if (res.error) {
        wsStatus("WebSocket: sign-in refused: " + describeError(res.error));
        return;
      }
      state.wsSignedIn[name] = value;
    }
    const bound = Object.keys(state.wsSignedIn);
    if (state.ws) wsStatus("WebSocket: connected, " + (bound.length ? "signed in (" + bound.join(", ") + ")" : "anonymous"));
  }

  async function callWS(method, name, params) {
    const req = { jsonrpc: "2.0", id: state.nextId++, method: name };
    if (params !== undefined) req.params = params;
    await openSocket();
    await syncSocket();
    const start = performance.now();
    const body = await sendWS(req);
    const ms = performance.now() - start;
    if (body.closed) return { req, status: "WebSocket closed before answering", ms, body: null };
    return { req, status: "WebSocket", ms, body };
  }

  function transport() {
    return document.querySelector('input[name="transport"]:checked').value;
  }

  function call(method, name, params) {
    return transport() === "ws" ? callWS(method, name, params) : callHTTP(method, name, params);
  }

  function describeError(e) {
    let s = e.code + " " + e.message;
    if (e.data && typeof e.data === "object") {
      if (e.data.reason) s += " (" + e.data.reason + ")";
      if (Array.isArray(e.data.required)) s += " (needs " + e.data.required.join(", ") + ")";
    }
    return s;
  }

  // ---- schemas ----

  function resolve(schema, seen) {
    seen = seen || 0;
    if (!schema || typeof schema !== "object" || seen > 16) return schema || {};
    if (schema.$ref) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref);
      const target = m && state.doc.components && state.doc.components.schemas && state.doc.components.schemas[decodeURIComponent(m[1])];
      return target ? resolve(target, seen + 1) : {};
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && !schema.type && !schema.properties) {
      return Object.assign({}, resolve(schema.allOf[0], seen + 1), withoutKey(schema, "allOf"));
    }
    return schema;
  }

  function withoutKey(o, k) {
    const c = Object.assign({}, o);
    delete c[k];
    return c;
  }

  function refName(schema) {
    if (!schema) return "";
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (Array.isArray(schema.allOf) && schema.allOf.length === 1) return refName(schema.allOf[0]);
    return "";
  }

  function typeLabel(schema, depth) {
    depth = depth || 0;
    if (!schema || depth > 4) return "any";
    const name = refName(schema);
    const s = resolve(schema);
    let t = Array.isArray(s.type) ? s.type.join(" | ") : s.type;
    if (t === "array") t = typeLabel(s.items, depth + 1) + "[]";
    if (!t && s.oneOf) t = s.oneOf.map((x) => typeLabel(x, depth + 1)).join(" | ");
    if (!t && s.anyOf) t = s.anyOf.map((x) => typeLabel(x, depth + 1)).join(" | ");
    if (!t) t = "any";
    if (s.format) t += " (" + s.format + ")";
    return name ? name + ": " + t : t;
  }

  function constraints(schema) {
    const s = resolve(schema);
    const out = [];
    const keys = [
      ["minLength", "min length"], ["maxLength", "max length"], ["minimum", "≥"], ["maximum", "≤"],
      ["exclusiveMinimum", ">"], ["exclusiveMaximum", "<"], ["multipleOf", "multiple of"],
      ["minItems", "min items"], ["maxItems", "max items"], ["pattern", "pattern"], ["default", "default"], ["const", "const"],
    ];
    for (const [k, label] of keys) if (s[k] !== undefined) out.push(label + " " + (typeof s[k] === "string" ? s[k] : JSON.stringify(s[k])));
    if (s.uniqueItems) out.push("unique items");
    if (Array.isArray(s.enum)) out.push("one of " + s.enum.map((v) => JSON.stringify(v)).join(", "));
    return out;
  }

  // ---- rendering the document ----

  function securityBadges(method) {
    const sec = method["x-security"];
    if (!sec || !sec.length) return [el("span", { class: "badge public", text: "public" })];
    const out = [];
    sec.forEach((alt, i) => {
      if (i > 0) out.push(el("span", { class: "or", text: "or" }));
      const parts = Object.entries(alt).map(([n, scopes]) => (scopes.length ? n + ": " + scopes.join(" ") : n));
      out.push(el("span", { class: "badge secured", title: "Needs " + parts.join(" and "), text: parts.join(" + ") }));
    });
    return out;
  }

  // deref inlines #/components/schemas references, except one to a schema
  // that is already being inlined above it (a recursive type), which is
  // left as its $ref.
  function deref(schema, stack) {
    stack = stack || [];
    if (Array.isArray(schema)) return schema.map((x) => deref(x, stack));
    if (!schema || typeof schema !== "object") return schema;
    if (typeof schema.$ref === "string") {
      const name = refName(schema);
      if (stack.includes(name) || stack.length > 8) return schema;
      const target = resolve(schema);
      return deref(target, stack.concat(name));
    }
    const out = {};
    for (const [k, v] of Object.entries(schema)) out[k] = k === "enum" || k === "const" || k === "default" || k === "examples" ? v : deref(v, stack);
    return out;
  }

  function schemaBlock(label, schema) {
    return el("details", { class: "schema" }, el("summary", { text: label }), el("pre", { text: pretty(deref(schema)) }));
  }

  // propsTable lists an object schema's properties, or returns null.
  function propsTable(schema) {
    const s = resolve(schema);
    const props = s && s.properties;
    if (!props || !Object.keys(props).length) return null;
    const req = new Set(s.required || []);
    return el("table", { class: "props" },
      el("thead", {}, el("tr", {}, ["Property", "Type", "", "Description"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, Object.entries(props).map(([name, p]) =>
        el("tr", {}, el("td", {}, el("code", { text: name })), el("td", { text: typeLabel(p) }),
          el("td", { text: req.has(name) ? "required" : "" }),
          el("td", {}, resolve(p).description ? el("div", { text: resolve(p).description }) : null,
            constraints(p).map((c) => el("div", { class: "constraint", text: c })))))));
  }

  function resultBlock(method) {
    const schema = method.result && method.result.schema;
    const arr = schema && resolve(schema).type === "array" ? resolve(schema).items : null;
    return el("div", { class: "result" },
      el("p", {}, el("code", { text: typeLabel(schema) })),
      propsTable(arr || schema),
      schema ? schemaBlock("Result schema", schema) : null);
  }

  function paramsTable(method) {
    if (!method.params.length) return el("p", { class: "muted", text: "No params." });
    const rows = method.params.map((p) =>
      el("tr", {},
        el("td", {}, el("code", { text: p.name })),
        el("td", { text: typeLabel(p.schema) }),
        el("td", { text: p.required ? "required" : "optional" }),
        el("td", {},
          p.description || p.summary ? el("div", { text: p.description || p.summary }) : null,
          constraints(p.schema).map((c) => el("div", { class: "constraint", text: c })),
          schemaBlock("Schema", p.schema))));
    return el("table", { class: "params" },
      el("thead", {}, el("tr", {}, ["Name", "Type", "", "Description"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows));
  }

  function errorsTable(method) {
    if (!method.errors || !method.errors.length) return null;
    const withData = method.errors.some((e) => e.data !== undefined);
    return el("table", { class: "errors" },
      el("thead", {}, el("tr", {}, (withData ? ["Code", "Message", "Data"] : ["Code", "Message"]).map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, method.errors.map((e) =>
        el("tr", {}, el("td", {}, el("code", { text: String(e.code) })), el("td", { text: e.message }),
          withData ? el("td", {}, e.data !== undefined ? el("code", { text: JSON.stringify(e.data) }) : "") : null))));
  }

  function examplesBlock(method) {
    if (!method.examples || !method.examples.length) return null;
    return el("div", { class: "examples" }, method.examples.map((ex) => {
      const params = {};
      for (const p of ex.params || []) params[p.name] = p.value;
      return el("div", { class: "example" },
        el("div", { class: "example-name", text: ex.name + (ex.summary ? ": " + ex.summary : "") }),
        el("pre", { text: "params → " + JSON.stringify(params) + (ex.result ? "\nresult → " + JSON.stringify(ex.result.value) : "") }));
    }));
  }

  // ---- forms from schemas ----

  // field builds an input for one value; get() returns undefined when the
  // field is empty, so that optional params are left out.
  function field(name, schema, required, idBase) {
    const s = resolve(schema);
    const id = idBase + "-" + name.replace(/[^A-Za-z0-9_-]/g, "_");
    const labelText = name + (required ? " *" : "");
    const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
    let input;
    let get;
    let set;
    if (Array.isArray(s.enum)) {
      input = el("select", { id }, el("option", { value: "", text: "—" }), s.enum.map((v, i) => el("option", { value: String(i), text: JSON.stringify(v) })));
      get = () => (input.value === "" ? undefined : s.enum[Number(input.value)]);
      set = (v) => { const i = s.enum.findIndex((x) => JSON.stringify(x) === JSON.stringify(v)); input.value = i < 0 ? "" : String(i); };
    } else if (t === "boolean") {
      input = el("select", { id }, el("option", { value: "", text: "—" }), el("option", { value: "true", text: "true" }), el("option", { value: "false", text: "false" }));
      get = () => (input.value === "" ? undefined : input.value === "true");
      set = (v) => { input.value = v === true ? "true" : v === false ? "false" : ""; };
    } else if (t === "integer" || t === "number") {
      input = el("input", { id, type: "number", step: t === "integer" ? "1" : "any", min: s.minimum, max: s.maximum });
      get = () => (input.value === "" ? undefined : Number(input.value));
      set = (v) => { input.value = v === undefined || v === null ? "" : String(v); };
    } else if (t === "string") {
      const secret = /password|secret|token/i.test(name);
      input = el("input", { id, type: secret ? "password" : "text", autocomplete: secret ? "off" : "off", spellcheck: "false", maxlength: s.maxLength, placeholder: s.format || "" });
      get = () => (input.value === "" ? undefined : input.value);
      set = (v) => { input.value = v === undefined || v === null ? "" : String(v); };
    } else {
      input = el("textarea", { id, rows: 3, spellcheck: "false", placeholder: "JSON: " + typeLabel(schema) });
      get = () => (input.value.trim() === "" ? undefined : JSON.parse(input.value));
      set = (v) => {
        const flat = v === undefined ? "" : JSON.stringify(v);
        input.value = flat.length > 60 ? pretty(v) : flat;
      };
    }
    const row = el("div", { class: "field" }, el("label", { for: id, text: labelText }), input, el("span", { class: "field-type", text: typeLabel(schema) }));
    return { name, row, get, set, input };
  }

  function paramsForm(method, idBase) {
    const fields = method.params.map((p) => field(p.name, p.schema, p.required, idBase));
    return {
      fields,
      node: el("div", { class: "form" }, fields.map((f) => f.row)),
      value() {
        const out = {};
        for (const f of fields) {
          let v;
          try {
            v = f.get();
          } catch (e) {
            throw new Error(f.name + ": " + e.message);
          }
          if (v !== undefined) out[f.name] = v;
        }
        return out;
      },
      fill(obj) {
        for (const f of fields) f.set(obj ? obj[f.name] : undefined);
      },
    };
  }

  function exampleParams(ex) {
    const o = {};
    for (const p of ex.params || []) o[p.name] = p.value;
    return o;
  }

  // ---- try it ----

  function curlFor(req, method) {
    const q = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
    const lines = ["curl -sS " + q(endpoint.href)];
    lines.push("  -H " + q("Content-Type: application/json"));
    const schemes = knownSchemes();
    for (const n of schemesFor(method)) {
      const kv = header(schemes[n], "$TOKEN");
      // The credential stays out of the command: the shell fills in $TOKEN.
      if (kv) lines.push("  -H \"" + kv[0] + ": " + kv[1] + "\"");
    }
    lines.push("  --data-raw " + q(JSON.stringify(req)));
    return lines.join(" \\\n");
  }

  function tryIt(method) {
    const base = idFor(method.name);
    const form = paramsForm(method, base + "-p");
    const raw = el("textarea", { id: base + "-raw", class: "raw", rows: 6, spellcheck: "false", "aria-label": "Params as JSON" });
    raw.hidden = true;
    const formMode = el("button", { type: "button", class: "tab", "aria-pressed": "true", text: "Form" });
    const jsonMode = el("button", { type: "button", class: "tab", "aria-pressed": "false", text: "JSON" });
    let mode = "form";
    const err = el("p", { class: "error-line", role: "alert" });
    const setMode = (m) => {
      err.textContent = "";
      if (m === mode) return;
      try {
        if (m === "json") raw.value = pretty(form.value());
        else form.fill(raw.value.trim() ? JSON.parse(raw.value) : {});
      } catch (e) {
        err.textContent = "Cannot switch: " + e.message;
        return;
      }
      mode = m;
      form.node.hidden = m !== "form";
      raw.hidden = m !== "json";
      formMode.setAttribute("aria-pressed", String(m === "form"));
      jsonMode.setAttribute("aria-pressed", String(m === "json"));
    };
    formMode.addEventListener("click", () => setMode("form"));
    jsonMode.addEventListener("click", () => setMode("json"));

    let exampleSelect = null;
    if (method.examples && method.examples.length) {
      form.fill(exampleParams(method.examples[0]));
      exampleSelect = el("select", { "aria-label": "Example" }, method.examples.map((ex, i) => el("option", { value: String(i), text: "Example: " + ex.name })));
      exampleSelect.addEventListener("change", () => {
        const p = exampleParams(method.examples[Number(exampleSelect.value)]);
        form.fill(p);
        raw.value = pretty(p);
      });
    }

    const params = () => {
      const p = mode === "json" ? (raw.value.trim() ? JSON.parse(raw.value) : undefined) : form.value();
      if (p === undefined) return undefined;
      if (!Array.isArray(p) && typeof p === "object" && p !== null && Object.keys(p).length === 0 && !method.params.length) return undefined;
      return p;
    };

    const out = el("div", { class: "output", "aria-live": "polite" });
    const send = el("button", { type: "submit", class: "primary send", text: "Send" });
    const copy = el("button", { type: "button", text: "Copy as curl" });
    const authHint = el("div", { class: "auth-hint" });

    const request = () => {
      const req = { jsonrpc: "2.0", id: state.nextId, method: method.name };
      const p = params();
      if (p !== undefined) req.params = p;
      return req;
    };

    copy.addEventListener("click", async () => {
      err.textContent = "";
      let text;
      try {
        text = curlFor(request(), method);
      } catch (e) {
        err.textContent = "Params: " + e.message;
        return;
      }
      const pre = el("pre", { class: "curl", text });
      out.replaceChildren(el("div", { class: "out-head", text: "curl (the credential is left out as $TOKEN)" }), pre);
      try {
        await navigator.clipboard.writeText(text);
        copy.textContent = "Copied";
        setTimeout(() => { copy.textContent = "Copy as curl"; }, 1500);
      } catch {
        // No clipboard (an insecure origin): the command is shown to copy by hand.
      }
    });

    const formEl = el("form", { class: "try", "aria-label": "Try " + method.name },
      el("div", { class: "try-head" }, el("h3", { text: "Try it" }),
        method.params.length ? el("div", { class: "tabs", role: "group", "aria-label": "Params editor" }, formMode, jsonMode) : null, exampleSelect),
      method.params.length ? [form.node, raw] : el("p", { class: "muted", text: "This method takes no params." }),
      err,
      el("div", { class: "actions" }, send, copy),
      authHint,
      out);
    raw.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) formEl.requestSubmit();
    });
    formEl.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      let p;
      try {
        p = params();
      } catch (e) {
        err.textContent = "Params: " + e.message;
        return;
      }
      send.disabled = true;
      out.replaceChildren(el("div", { class: "out-head", text: "Sending…" }));
      try {
        const r = await call(method, method.name, p);
        if (method["x-sign-in"] && r.body && r.body.result && r.body.result.access_token) {
          adoptToken(method["x-sign-in"].scheme, r.body.result.access_token);
        }
        showResult(out, r);
      } catch (e) {
        out.replaceChildren(el("div", { class: "out-head bad", text: "Failed: " + e.message }));
      } finally {
        send.disabled = false;
      }
    });
    return formEl;
  }

  function showResult(out, r) {
    const bad = r.body && r.body.error;
    const head = el("div", { class: "out-head " + (bad ? "bad" : "good") },
      el("span", { class: "status-code", text: r.status }), " · ", el("span", { class: "time", text: r.ms.toFixed(0) + " ms" }),
      bad ? el("span", { class: "rpc-error", text: " · error " + describeError(r.body.error) }) : null);
    const parts = [head];
    if (bad && r.body.error.code === -32001) {
      const reason = r.body.error.data && r.body.error.data.reason;
      const what = { missing: "This method needs credentials, and the call carried none.",
        expired: "The token has expired.", revoked: "The token has been revoked (signed out).",
        invalid: "The credentials are not valid." }[reason] || "Unauthorized.";
      parts.push(el("div", { class: "reauth", role: "alert" }, el("span", { text: what + " " }),
        el("button", { type: "button", class: "primary", text: state.signIn ? "Sign in again" : "Authorize", onclick: openAuth })));
      if (reason === "expired" || reason === "revoked") showAuthStatus("Token " + reason + ": sign in again");
    }
    const shown = Object.assign({}, r.headers || {});
    // The page shows that a credential went, never the credential.
    for (const k of Object.keys(shown)) {
      if (k.toLowerCase() === "authorization") shown[k] = shown[k].split(" ")[0] + " …";
      else if (k.toLowerCase() !== "content-type") shown[k] = "…";
    }
    parts.push(el("div", { class: "out-label", text: "Request" + (r.headers ? " (POST " + endpoint.pathname + ")" : " (WebSocket)") }));
    if (r.headers) parts.push(el("pre", { class: "headers", text: Object.entries(shown).map(([k, v]) => k + ": " + v).join("\n") }));
    parts.push(el("pre", { class: "request", text: pretty(r.req) }));
    parts.push(el("div", { class: "out-label", text: "Response" }));
    parts.push(el("pre", { class: "response", text: typeof r.body === "string" ? r.body : pretty(r.body) }));
    out.replaceChildren(...parts);
  }

  function adoptToken(scheme, token) {
    state.creds[scheme] = token;
    saveCreds();
    if (state.ws) syncSocket();
  }

  function renderMethod(method) {
    const base = idFor(method.name);
    const body = el("div", { class: "method-body", id: base + "-body" });
    body.hidden = true;
    let built = false;
    const toggle = el("button", { type: "button", class: "toggle", "aria-expanded": "false", "aria-controls": base + "-body", text: method.name });
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      if (open && !built) {
        built = true;
        const parts = [
          method.description ? el("p", { class: "description", text: method.description }) : null,
          method.deprecated ? el("p", { class: "deprecated", text: "Deprecated." }) : null,
          el("h3", { text: "Params" }), paramsTable(method),
          el("h3", { text: "Result" }), resultBlock(method),
          method.errors && method.errors.length ? el("h3", { text: "Errors" }) : null, errorsTable(method),
          method.examples && method.examples.length ? el("h3", { text: "Examples" }) : null, examplesBlock(method),
          tryIt(method),
        ];
        body.append(...parts.filter((p) => p));
      }
      toggle.setAttribute("aria-expanded", String(open));
      body.hidden = !open;
    });
    const tags = (method.tags || []).map((t) => el("span", { class: "tag", text: t.name }));
    const section = el("section", { class: "method" + (method.deprecated ? " is-deprecated" : ""), id: base, "aria-labelledby": base + "-h", "data-name": method.name, "data-tags": (method.tags || []).map((t) => t.name).join(" ") },
      el("div", { class: "method-head" },
        el("h2", { id: base + "-h" }, toggle),
        el("span", { class: "badges" }, securityBadges(method), method["x-sign-in"] ? el("span", { class: "badge signin", text: "sign-in" }) : null, tags),
        method.summary ? el("span", { class: "summary", text: method.summary }) : null),
      body);
    return section;
  }

  function applyFilter() {
    const q = $("filter").value.trim().toLowerCase();
    const tag = $("tag").value;
    let shown = 0;
    for (const s of document.querySelectorAll("section.method")) {
      const tags = s.dataset.tags ? s.dataset.tags.split(" ") : [];
      const ok = (!q || s.dataset.name.toLowerCase().includes(q) || tags.some((t) => t.toLowerCase().includes(q))) && (!tag || tags.includes(tag));
      s.hidden = !ok;
      if (ok) shown++;
    }
    const empty = $("no-match");
    if (empty) empty.hidden = shown > 0;
  }

  function render(doc) {
    state.doc = doc;
    state.schemes = (doc.components && doc.components["x-security-schemes"]) || {};
    state.signIn = doc.methods.find((m) => m["x-sign-in"]) || null;
    // A server that declares no scheme takes no credentials.
    const secured = Object.keys(state.schemes).length > 0;
    $("authorize").hidden = !secured;
    $("auth-status").hidden = !secured;
    document.title = doc.info.title + " — API reference";
    $("title").textContent = doc.info.title;
    $("version").textContent = doc.info.version;
    $("description").textContent = doc.info.description || "";
    $("openrpc-version").textContent = " · OpenRPC " + doc.openrpc;
    const tags = new Set();
    for (const m of doc.methods) for (const t of m.tags || []) tags.add(t.name);
    $("tag").replaceChildren(el("option", { value: "", text: "All tags" }), [...tags].sort().map((t) => el("option", { value: t, text: t })));
    $("methods").replaceChildren(...doc.methods.map(renderMethod), el("p", { id: "no-match", class: "muted", text: "No method matches.", hidden: true }));
    applyFilter();
    renderAuthDialog();
  }

  // ---- the Authorize dialog ----

  function renderAuthDialog() {
    const schemes = knownSchemes();
    const box = $("auth-schemes");
    box.replaceChildren();
    for (const [name, s] of Object.entries(schemes)) {
      const id = "cred-" + name.replace(/[^A-Za-z0-9_-]/g, "_");
      const usable = header(s, "x") !== null;
      const kind = s.type === "http" ? (s.scheme || "bearer") + " token" : s.type === "apiKey" ? "API key (" + (s.in || "?") + " " + (s.name || "") + ")" : s.type;
      const input = el("input", { id, type: "password", autocomplete: "off", spellcheck: "false", "data-scheme": name, disabled: !usable });
      input.value = state.creds[name] || "";
      box.append(el("div", { class: "field" },
        el("label", { for: id, text: kind.startsWith(name + " ") ? kind.charAt(0).toUpperCase() + kind.slice(1) : name + " — " + kind }), input,
        s.description ? el("span", { class: "hint", text: s.description }) : null,
        usable ? null : el("span", { class: "hint", text: "The page cannot send this credential: it puts none in URLs." })));
    }
    const si = $("signin");
    if (state.signIn) {
      si.hidden = false;
      $("signin-hint").textContent = "Calls " + state.signIn.name + " and uses the access token it returns for " + state.signIn["x-sign-in"].scheme + ".";
      const form = paramsForm(state.signIn, "signin");
      si.form = form;
      $("signin-fields").replaceChildren(form.node);
    } else {
      si.hidden = true;
    }
  }

  function openAuth() {
    renderAuthDialog();
    $("signin-result").textContent = "";
    $("auth-dialog").showModal();
  }

  function setupAuth() {
    $("authorize").addEventListener("click", openAuth);
    $("auth-form").addEventListener("submit", (ev) => {
      if (ev.submitter && ev.submitter.value !== "save") return;
      for (const input of $("auth-schemes").querySelectorAll("input[data-scheme]")) {
        const v = input.value.trim();
        if (v) state.creds[input.dataset.scheme] = v;
        else delete state.creds[input.dataset.scheme];
      }
      saveCreds();
      closeSocket();
      if (transport() === "ws") openSocket().then(syncSocket, () => {});
      if (!state.doc) discover();
    });
    $("auth-clear").addEventListener("click", () => {
      state.creds = {};
      for (const input of $("auth-schemes").querySelectorAll("input[data-scheme]")) input.value = "";
      saveCreds();
      // A WebSocket keeps what it was signed in with: start a new one.
      closeSocket();
      wsStatus("");
    });
    $("auth-keep").addEventListener("change", saveCreds);
    // Enter in a sign-in field signs in, rather than submitting the dialog.
    $("signin-fields").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && ev.target.tagName === "INPUT") {
        ev.preventDefault();
        $("signin-send").click();
      }
    });
    $("signin-send").addEventListener("click", async () => {
      const m = state.signIn;
      const line = $("signin-result");
      let params;
      try {
        params = $("signin").form.value();
      } catch (e) {
        line.textContent = "Params: " + e.message;
        return;
      }
      line.textContent = "Signing in…";
      try {
        const r = await callHTTP(m, m.name, params);
        if (r.body && r.body.result && r.body.result.access_token) {
          adoptToken(m["x-sign-in"].scheme, r.body.result.access_token);
          const input = $("auth-schemes").querySelector('input[data-scheme="' + CSS.escape(m["x-sign-in"].scheme) + '"]');
          if (input) input.value = r.body.result.access_token;
          line.textContent = "Signed in: the token is kept in this tab" + ($("auth-keep").checked ? " (sessionStorage)." : "'s memory.");
          for (const f of $("signin").form.fields) if (f.input.type === "password") f.input.value = "";
        } else if (r.body && r.body.error) {
          line.textContent = "Sign-in failed: " + describeError(r.body.error);
        } else {
          line.textContent = "Sign-in failed: " + r.status;
        }
      } catch (e) {
        line.textContent = "Sign-in failed: " + e.message;
      }
    });
  }

  // ---- start ----

  async function discover() {
    notice("");
    let r;
    try {
      r = await callHTTP(null, "rpc.discover", undefined);
    } catch (e) {
      notice("Could not reach the server: " + e.message);
      return;
    }
    const b = r.body;
    if (b && b.error && (b.error.code === -32001 || b.error.code === -32003)) {
      const why = b.error.code === -32001 ? "This server's document is protected: authorize to see its methods." : "This server's document is protected, and your credentials lack the scope it needs (" + describeError(b.error) + ").";
      notice(why + (b.error.code === -32001 && b.error.data && b.error.data.reason && b.error.data.reason !== "missing" ? " (" + b.error.data.reason + ")" : ""), true);
      renderAuthDialog();
      return;
    }
    if (!b || !b.result || !Array.isArray(b.result.methods)) {
      notice("rpc.discover did not return an OpenRPC document: " + (b && b.error ? describeError(b.error) : r.status));
      return;
    }
    render(b.result);
  }

  function start() {
    $("endpoint").textContent = endpoint.pathname;
    loadCreds();
    showAuthStatus();
    setupAuth();
    $("filter").addEventListener("input", applyFilter);
    $("tag").addEventListener("change", applyFilter);
    for (const r of document.querySelectorAll('input[name="transport"]')) {
      r.addEventListener("change", () => {
        if (transport() === "ws") openSocket().then(syncSocket, () => {});
        else { closeSocket(); wsStatus(""); }
      });
    }
    discover();
  }

  start();
})();
