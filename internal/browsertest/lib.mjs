// lib.mjs: what the scenarios share. It starts Chromium through
// puppeteer-core, records every request the page makes (WebSocket
// handshakes and frames included), and offers steps that find controls by
// their accessible names, as a person using a screen reader would.
import puppeteer from "puppeteer-core";
import path from "node:path";

const STEP_MS = 10000;

// launch starts the browser with one page, on a light or dark system
// theme, and records requests. Close it with done().
export async function launch({ dark = false, width = 1200, height = 900 } = {}) {
  const args = ["--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions"];
  if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
  const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args, protocolTimeout: 30000 });
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  await page.setViewport({ width, height });
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: dark ? "dark" : "light" }]);

  const rec = { requests: [], frames: [], console: [], pageErrors: [], dialogs: [], cspViolations: [] };
  page.on("request", (r) => rec.requests.push({ url: r.url(), method: r.method(), headers: r.headers(), body: r.postData() || "" }));
  page.on("console", (m) => rec.console.push(m.type() + ": " + m.text()));
  page.on("pageerror", (e) => rec.pageErrors.push(String(e && e.message)));
  page.on("dialog", async (d) => {
    rec.dialogs.push(d.message());
    await d.dismiss();
  });
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  const wsURLs = new Map(); // requestId -> url: the handshake event has no url
  cdp.on("Network.webSocketCreated", (e) => wsURLs.set(e.requestId, e.url));
  cdp.on("Network.webSocketWillSendHandshakeRequest", (e) =>
    rec.requests.push({ url: wsURLs.get(e.requestId) || "", method: "WEBSOCKET", headers: e.request.headers || {}, body: "" }));
  cdp.on("Network.webSocketFrameSent", (e) => rec.frames.push({ dir: "sent", data: e.response.payloadData }));
  cdp.on("Network.webSocketFrameReceived", (e) => rec.frames.push({ dir: "received", data: e.response.payloadData }));
  return { browser, page, rec, done: () => browser.close() };
}

// aria finds the element with the role and accessible name.
export function aria(page, role, name) {
  return page.waitForSelector(`::-p-aria([name="${name}"][role="${role}"])`, { visible: true });
}

// within finds the element with the role and accessible name inside root.
export function ariaIn(root, role, name) {
  return root.waitForSelector(`::-p-aria([name="${name}"][role="${role}"])`, { visible: true });
}

// section opens the method's block by its heading's button and returns the
// section.
export async function openMethod(page, name) {
  const btn = await aria(page, "button", name);
  const expanded = await btn.evaluate((b) => b.getAttribute("aria-expanded"));
  if (expanded !== "true") await btn.click();
  return page.waitForSelector(`section.method[data-name="${name}"]`);
}

// fill replaces an input's value with text, as typing would.
export async function fill(handle, text) {
  await handle.click({ clickCount: 3 });
  await handle.evaluate((e) => {
    e.value = "";
    e.dispatchEvent(new Event("input", { bubbles: true }));
  });
  if (text) await handle.type(text);
}

// send presses the section's Send button and waits for the answer; it
// returns what the output shows.
export async function send(page, section) {
  const before = await section.$eval(".output", (o) => o.textContent);
  const btn = await ariaIn(section, "button", "Send");
  await btn.click();
  await page.waitForFunction(
    (s, b) => {
      const head = s.querySelector(".output .out-head");
      return head && !head.textContent.startsWith("Sending") && s.querySelector(".output").textContent !== b;
    },
    {},
    section,
    before,
  );
  return output(section);
}

// output returns what a section's output shows, as text.
export function output(section) {
  return section.$eval(".output", (o) => ({
    head: (o.querySelector(".out-head") || {}).textContent || "",
    request: (o.querySelector(".request") || {}).textContent || "",
    headers: (o.querySelector(".headers") || {}).textContent || "",
    response: (o.querySelector(".response") || {}).textContent || "",
    reauth: (o.querySelector(".reauth") || {}).textContent || "",
    elements: [...o.querySelectorAll("*")].map((e) => e.tagName.toLowerCase()),
  }));
}

// shot saves a screenshot of the page (or of one element) under dir.
export async function shot(page, dir, name, handle) {
  const file = path.join(dir, name + ".png");
  if (handle) await handle.screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  return file;
}

// origins lists the origins of every recorded request.
export function origins(rec) {
  return [...new Set(rec.requests.map((r) => { try { return new URL(r.url).origin.replace(/^ws/, "http"); } catch { return r.url; } }))];
}

// carrying lists the requests whose URL, headers or body hold secret.
export function carrying(rec, secret) {
  return rec.requests
    .filter((r) => r.url.includes(secret) || JSON.stringify(r.headers).includes(secret) || r.body.includes(secret))
    .map((r) => ({ url: r.url, inURL: r.url.includes(secret) }));
}
