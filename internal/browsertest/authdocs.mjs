// authdocs.mjs BASE SHOTS USER PASSWORD PROBE: walks the auth example's
// /docs page as a person would (examples/auth/docs_e2e_test.go judges what
// it saw). BASE is the server's origin, SHOTS a directory for screenshots,
// USER and PASSWORD a new account, PROBE a username that is also HTML.
import { launch, aria, ariaIn, openMethod, fill, send, output, shot, origins, carrying } from "./lib.mjs";

const [base, shots, user, password, probe] = process.argv.slice(2);
const seen = { steps: [] };
const { page, rec, done } = await launch();
const step = (name) => seen.steps.push(name);

try {
  // 1. Every method, with its security badge.
  await page.goto(base + "/docs", { waitUntil: "load" });
  await page.waitForSelector("section.method");
  seen.title = await page.$eval("#title", (e) => e.textContent);
  seen.version = await page.$eval("#version", (e) => e.textContent);
  seen.methods = await page.$$eval("section.method", (ss) =>
    ss.map((s) => ({
      name: s.dataset.name,
      heading: s.querySelector("h2").textContent,
      badges: [...s.querySelectorAll(".badge")].map((b) => b.textContent),
    })));
  await shot(page, shots, "01-methods");
  step("listed");

  // Filtering by name and by tag.
  const filter = await aria(page, "searchbox", "Filter methods by name or tag");
  await fill(filter, "user");
  seen.filteredByName = await page.$$eval("section.method:not([hidden])", (ss) => ss.map((s) => s.dataset.name));
  await fill(filter, "security");
  seen.filteredByTag = await page.$$eval("section.method:not([hidden])", (ss) => ss.map((s) => s.dataset.name));
  await fill(filter, "");
  step("filtered");

  // 2. Sign up through the method's form, then sign in through Authorize.
  let sec = await openMethod(page, "sign_up");
  seen.signUpPrefill = await sec.$eval("#m-sign_up-p-username", (e) => e.value);
  await fill(await sec.$("#m-sign_up-p-username"), user);
  await fill(await sec.$("#m-sign_up-p-password"), password);
  seen.signUp = await send(page, sec);
  await shot(page, shots, "02-sign-up", sec);
  step("signed up");

  await (await aria(page, "button", "Authorize")).click();
  const dialog = await page.waitForSelector("#auth-dialog[open]");
  seen.signInHint = await page.$eval("#signin-hint", (e) => e.textContent);
  await fill(await dialog.$("#signin-username"), user);
  await fill(await dialog.$("#signin-password"), password);
  await page.keyboard.press("Enter"); // in the password field: signs in
  await page.waitForFunction(() => /Signed in|failed/.test(document.getElementById("signin-result").textContent));
  seen.signIn = await page.$eval("#signin-result", (e) => e.textContent);
  await shot(page, shots, "03-authorize-dialog");
  seen.authStatusAfterSignIn = await page.$eval("#auth-status", (e) => e.textContent);
  // The token, as the page holds it, to look for in every request.
  const token = await page.$eval('input[data-scheme="bearer"]', (e) => e.value);
  seen.tokenLooksLikeJWT = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
  step("signed in");

  // 3. Authorize with a pasted token: forget the one from sign-in, paste
  // it back, save.
  await (await ariaIn(dialog, "button", "Forget credentials")).click();
  seen.authStatusAfterClear = await page.$eval("#auth-status", (e) => e.textContent);
  await fill(await dialog.$('input[data-scheme="bearer"]'), token);
  await (await ariaIn(dialog, "button", "Authorize")).click();
  await page.waitForSelector("#auth-dialog:not([open])");
  seen.authStatus = await page.$eval("#auth-status", (e) => e.textContent);
  step("authorized");

  // 4. require_token over HTTP, then over a WebSocket.
  sec = await openMethod(page, "require_token");
  seen.requireHTTP = await send(page, sec);
  await shot(page, shots, "04-require-token-http");
  await (await aria(page, "radio", "WebSocket")).click();
  seen.requireWS = await send(page, sec);
  seen.wsStatus = await page.$eval("#ws-status", (e) => e.textContent);
  await shot(page, shots, "05-require-token-ws", sec);
  await (await aria(page, "radio", "HTTP")).click();
  step("require_token");

  // 5. list_users without the scope admin.
  sec = await openMethod(page, "list_users");
  seen.listUsers = await send(page, sec);
  await shot(page, shots, "06-list-users", sec);
  step("list_users");

  // Copy as curl: the command names the endpoint and leaves the token out.
  await (await ariaIn(sec, "button", "Copy as curl")).click();
  await sec.waitForSelector(".output pre.curl");
  seen.curl = await sec.$eval(".output pre.curl", (e) => e.textContent);
  step("curl");

  // 6. A username that is HTML comes back from sign_up as text.
  sec = await openMethod(page, "sign_up");
  await fill(await sec.$("#m-sign_up-p-username"), probe);
  await fill(await sec.$("#m-sign_up-p-password"), password);
  seen.probe = await send(page, sec);
  seen.xss = await page.evaluate(() => ({ flag: window.__xss === undefined ? null : String(window.__xss), imgs: document.querySelectorAll("main img").length }));
  await shot(page, shots, "07-xss-probe", sec);
  step("xss");

  // Sign out revokes the token: the next call shows -32001 "revoked" and
  // offers to sign in again.
  sec = await openMethod(page, "sign_out");
  seen.signOut = await send(page, sec);
  sec = await openMethod(page, "require_token");
  seen.revoked = await send(page, sec);
  seen.authStatusRevoked = await page.$eval("#auth-status", (e) => e.textContent);
  await shot(page, shots, "08-revoked", sec);
  await (await ariaIn(sec, "button", "Sign in again")).click();
  seen.reauthOpensDialog = await page.$eval("#auth-dialog", (d) => d.open);
  await page.keyboard.press("Escape");
  step("revoked");

  // A dark system theme.
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
  seen.darkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await shot(page, shots, "09-dark");
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
  seen.lightBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  step("themes");

  // 7. Where the token went.
  seen.origins = origins(rec);
  seen.tokenCarriedBy = carrying(rec, token);
  seen.tokenInFrames = rec.frames.filter((f) => f.dir === "sent" && f.data.includes(token)).map((f) => JSON.parse(f.data).method);
  seen.localStorage = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  seen.consoleHoldsToken = rec.console.some((l) => l.includes(token));
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
