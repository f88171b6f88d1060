// Renders Adaptive Cards with the official JavaScript renderer in one headless Chromium session.
// Usage: node render.mjs CHROMIUM_PATH. Reads one JSON request a line on stdin:
//   {"card": {...}, "theme": "light"|"dark", "width": 432, "png": "optional/path.png"}
// and answers each with one JSON line: {"problems": ["..."], "height": 123}.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const hostConfigs = Object.fromEntries(["light", "dark"].map((theme) => [
  theme, JSON.parse(readFileSync(join(here, "..", "adaptive_cards", `microsoft-teams-${theme}.json`), "utf8")),
]));
const backgrounds = { light: "#ffffff", dark: "#292929" };

// Segoe UI (Teams' font) is not on Linux: use Liberation Sans, which has Arial's metrics, else the default sans.
const page_html = `<!doctype html><html><head><meta charset="utf-8"><style>
  @font-face { font-family: "Segoe UI"; src: local("Liberation Sans"), local("Arial"); }
  body { margin: 0; }
  #host { padding: 0; }
  .ac-textBlock ul, .ac-textBlock ol { box-sizing: border-box; padding-left: 24px; }
  .ac-pushButton { font-family: "Segoe UI", sans-serif; font-size: 14px; font-weight: 600; padding: 4px 12px; overflow: hidden;
                   min-height: 32px; border-radius: 4px; border: 1px solid #d1d1d1; background: #fff; color: #242424; }
  .dark .ac-pushButton { border-color: #666; background: #292929; color: #fff; }
  .ac-input { font-family: "Segoe UI", sans-serif; font-size: 14px; }
  .dark .ac-input { background: #1f1f1f; color: #fff; border: 1px solid #666; }
</style></head><body><div id="host"></div></body></html>`;

function renderInPage(payload, hostConfig, width, theme, background) {
  const AC = window.AdaptiveCards;
  const problems = [];
  const card = new AC.AdaptiveCard();
  card.hostConfig = new AC.HostConfig(hostConfig);
  const context = new AC.SerializationContext();
  card.parse(payload, context);
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  for (const event of card.validateProperties().validationEvents) problems.push(`validation: ${event.message}`);
  // A toggle's title is its visible label; every other input needs a label.
  for (const input of card.getAllInputs()) {
    if (!input.label && !(input instanceof AC.ToggleInput && input.title)) problems.push(`input "${input.id}" has no label`);
  }
  const host = document.getElementById("host");
  host.className = theme;
  host.style.width = `${width}px`;
  host.style.background = background;
  host.replaceChildren(card.render());
  const shown = (el) => el.getClientRects().length > 0;
  const cut = (el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
  const label = (el) => JSON.stringify(el.innerText.trim().slice(0, 60));
  for (const button of host.querySelectorAll(".ac-pushButton, .ac-pushButton-disabled")) {
    if (shown(button) && [button, ...button.querySelectorAll("*")].some(cut)) problems.push(`button title cut off: ${label(button)}`);
  }
  for (const block of host.querySelectorAll(".ac-textBlock")) {
    if (shown(block) && [block, ...block.querySelectorAll("*")].some(cut)) problems.push(`text cut off: ${label(block)}`);
  }
  return { problems, height: Math.ceil(host.getBoundingClientRect().height) };
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), "custodian-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: process.argv[2],
    headless: true,
    userDataDir: profile,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    await page.setContent(page_html);
    await page.addScriptTag({ path: require.resolve("markdown-it/dist/markdown-it.min.js") });
    await page.addScriptTag({ path: require.resolve("adaptivecards/dist/adaptivecards.min.js") });
    process.stdout.write(JSON.stringify({ ready: true }) + "\n");
    for await (const line of createInterface({ input: process.stdin })) {
      if (!line.trim()) continue;
      let answer;
      try {
        const { card, theme, width, png } = JSON.parse(line);
        answer = await page.evaluate(renderInPage, card, hostConfigs[theme], width, theme, backgrounds[theme]);
        if (png) await (await page.$("#host")).screenshot({ path: png });
      } catch (error) {
        answer = { problems: [`renderer error: ${error.message}`], height: 0 };
      }
      process.stdout.write(JSON.stringify(answer) + "\n");
    }
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error) => { process.stderr.write(`${error.stack}\n`); process.exit(1); });
