/** Scrolling that keeps the student's place. */

/**
 * Shows an element by scrolling the panel that holds it, never the page: on a narrow screen the page scrolling to a
 * panel would take the lesson text, which the student is reading, off screen.
 */
export function scrollWithinPanel(el: HTMLElement): void {
  for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
    const { overflowY } = getComputedStyle(box);
    if ((overflowY === 'auto' || overflowY === 'scroll') && box.scrollHeight > box.clientHeight) {
      const top = el.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
      box.scrollTop = Math.max(0, top - 8);
      return;
    }
  }
}
