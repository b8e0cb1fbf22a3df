// scratch (not committed): screenshots of parts of pages
import { chromium } from "playwright-core";
import fs from "node:fs";
const [base, accountsFile, key, path, selector, out, width] = process.argv.slice(2);
const acc = JSON.parse(fs.readFileSync(accountsFile, "utf8"))[key];
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const p = await (await b.newContext({ viewport: { width: Number(width ?? 1024), height: 900 } })).newPage();
p.on("console", (m) => console.log("console:", m.type(), m.text()));
p.on("pageerror", (e) => console.log("pageerror:", e.message));
await p.goto(`${base}/sign-in`);
await p.fill("#username", acc.username); await p.fill("#password", acc.password);
await p.click("form button[type=submit]"); await p.waitForSelector("nav[aria-label=Account]");
await p.goto(`${base}${path}`); await p.waitForSelector("main h1"); await p.waitForTimeout(1500);
await p.locator(selector).first().screenshot({ path: out });
await b.close();
