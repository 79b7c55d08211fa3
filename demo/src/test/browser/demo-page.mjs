// Drives the gateway's demo page in headless Chromium: uploads a photo, asks two questions and
// waits for the caption, both answers and the recommendation cards. Run by DemoProcessIT:
//   node demo-page.mjs <base-url> <image-path> <screenshot-path>
// Exits 0 when everything arrived, non-zero (with the reason on stderr) otherwise.
import { chromium } from "playwright-core";

const [base, image, screenshot] = process.argv.slice(2);
const timeout = 120_000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
const consoleErrors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(base + "/", { waitUntil: "load" });
  await page.getByRole("heading", { name: "ShopLens", level: 1 }).waitFor({ timeout });

  await page.getByLabel(/choose one/).setInputFiles(image);
  await page.getByTestId("caption").filter({ hasText: /\S/ }).waitFor({ timeout });
  await page.getByRole("button", { name: "Ask" }).waitFor({ timeout });

  for (const question of ["What is it?", "What colour is it?"]) {
    await page.getByLabel("Your question").fill(question);
    await page.getByRole("button", { name: "Ask" }).click();
  }
  // An answer is done when it lost its "pending" class; the tiny model's words are gibberish,
  // so only their arrival is checked.
  await page.waitForFunction(
    () => document.querySelectorAll("#conversation .answer:not(.pending):not(.error)").length === 2,
    null,
    { timeout },
  );
  await page.getByTestId("product-card").first().waitFor({ timeout });

  const result = await page.evaluate(() => ({
    caption: document.getElementById("caption").textContent,
    questions: [...document.querySelectorAll("#conversation .question")].map((n) => n.textContent),
    answers: [...document.querySelectorAll("#conversation .answer")].map((n) => n.textContent),
    cards: [...document.querySelectorAll("[data-testid=product-card]")].map((c) => ({
      title: c.querySelector("h3")?.textContent,
      stock: c.querySelector(".stock")?.textContent,
    })),
    liveRegion: document.getElementById("conversation").getAttribute("aria-live"),
  }));
  await page.screenshot({ path: screenshot, fullPage: true });
  if (consoleErrors.length) {
    throw new Error("the page logged errors: " + consoleErrors.join(" | "));
  }
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
