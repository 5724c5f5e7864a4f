// protected.mjs PAGE SHOTS TOKEN PROBE: opens a docs page whose
// rpc.discover is protected, authorizes with TOKEN when the page asks,
// then has the method echo return PROBE, a string of HTML
// (openrpc/docs_ext_test.go judges what it saw).
import { launch, aria, ariaIn, openMethod, fill, send, shot, origins, carrying } from "./lib.mjs";

const [url, shots, token, probe] = process.argv.slice(2);
const seen = { steps: [] };
const { page, rec, done } = await launch({ width: 1000, height: 700 });

try {
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => !document.getElementById("notice").hidden);
  seen.notice = await page.$eval("#notice", (e) => e.textContent);
  seen.methodsBefore = await page.$$eval("section.method", (ss) => ss.length);
  await shot(page, shots, "01-protected");
  seen.steps.push("asked");

  await (await ariaIn(await page.$("#notice"), "button", "Authorize")).click();
  const dialog = await page.waitForSelector("#auth-dialog[open]");
  await fill(await dialog.$('input[data-scheme="bearer"]'), token);
  await (await ariaIn(dialog, "button", "Authorize")).click();
  await page.waitForSelector("section.method");
  seen.noticeAfter = await page.$eval("#notice", (e) => (e.hidden ? "" : e.textContent));
  seen.methods = await page.$$eval("section.method", (ss) => ss.map((s) => s.dataset.name));
  seen.steps.push("authorized");

  const sec = await openMethod(page, "echo");
  await fill(await sec.$("#m-echo-p-text"), probe);
  seen.echo = await send(page, sec);
  seen.xss = await page.evaluate(() => ({
    flag: window.__xss === undefined ? null : String(window.__xss),
    imgs: document.querySelectorAll("main img").length,
    scripts: document.querySelectorAll("script").length,
  }));
  await shot(page, shots, "02-echo", sec);
  seen.steps.push("echoed");

  // The raw JSON editor takes over the form's params, and sends its own.
  await (await ariaIn(sec, "button", "JSON")).click();
  const raw = await sec.$("textarea.raw");
  seen.rawFromForm = await raw.evaluate((e) => e.value);
  seen.formHidden = await sec.$eval(".form", (e) => e.hidden && getComputedStyle(e).display === "none");
  await fill(raw, '{"text": "from the JSON editor"}');
  seen.echoJSON = await send(page, sec);
  seen.steps.push("json");

  seen.origins = origins(rec);
  seen.tokenCarriedBy = carrying(rec, token);
  seen.pageErrors = rec.pageErrors;
  seen.dialogs = rec.dialogs;
} catch (e) {
  seen.error = String(e && e.stack);
  try {
    await shot(page, shots, "failure");
  } catch {}
} finally {
  await done();
}
console.log(JSON.stringify(seen));
