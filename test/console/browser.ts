/// <reference lib="dom" />
// page.evaluate callbacks run in the browser: their code is typed against the DOM
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { Browser, chromium, Page } from 'playwright-core';

/** Debian's chromium by default (`.ci/run` installs it); CHROMIUM_PATH names another. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots the browser tests save, kept out of git. */
export const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'console');

export function launchChromium(): Promise<Browser> {
  // root (CI) cannot use Chromium's sandbox; the pages are this repo's own
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** axe-core's serious and critical findings on the page as it stands (WCAG 2.1 A and AA rules). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/**
 * The controls a keyboard user must reach that Tab did not: every visible link, button, input,
 * select and focusable element, a radio group counted once (Tab enters a group at its checked
 * radio; the arrow keys move within it).
 */
export async function controlsTabMisses(page: Page): Promise<string[]> {
  const expected = await page.evaluate(() => {
    const controls = [
      ...document.querySelectorAll<HTMLElement>(
        'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])',
      ),
    ].filter((el) => {
      const box = el.getBoundingClientRect();
      const visible = box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
      const skip = el.classList.contains('skip');
      const radio = el instanceof HTMLInputElement && el.type === 'radio';
      const otherChecked =
        radio && !el.checked && !!document.querySelector(`input[type=radio][name="${el.name}"]:checked`);
      return (visible || skip) && !otherChecked;
    });
    controls.forEach((el, i) => (el.dataset.tabProbe = String(i)));
    return controls.map(
      (el) =>
        `${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute('aria-label') || el.id).trim().slice(0, 40)}"`,
    );
  });
  const reached = new Set<number>();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (let i = 0; i < expected.length + 10; i++) {
    await page.keyboard.press('Tab');
    const probe = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.tabProbe ?? null);
    if (probe !== null) reached.add(Number(probe));
  }
  return expected.filter((_, i) => !reached.has(i));
}

/** What makes the page wider than the window (a horizontal scroll bar): the outermost elements past its right edge. */
export function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    if (document.documentElement.scrollWidth <= window.innerWidth) return [];
    // inside a box that scrolls or clips by itself, an element past the edge widens nothing; an
    // absolutely positioned one is clipped only by a box that positions it (or one around that)
    const clipped = (el: HTMLElement): boolean => {
      let escapes = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        const style = getComputedStyle(up);
        if (escapes && style.position === 'static') continue;
        if (style.overflowX !== 'visible') return true;
        escapes = ['absolute', 'fixed'].includes(style.position);
      }
      return false;
    };
    const past = [...document.body.querySelectorAll<HTMLElement>('*')].filter(
      (el) => el.getBoundingClientRect().right > window.innerWidth + 0.5 && !clipped(el),
    );
    const culprits = past
      .filter((el) => !past.includes(el.parentElement!))
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)} px)`);
    return culprits.length ? culprits : [`the page: ${document.documentElement.scrollWidth} px`];
  });
}
