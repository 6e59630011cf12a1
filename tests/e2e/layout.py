"""Layout checks in the browser tests: the page fits its window and shows everything it holds.

`layout_problems(page)` answers one line per problem, an empty list when the
page is right:
- the document is wider than the window (the page scrolls sideways);
- an element reaches past the window's left or right edge;
- an element's content is wider than the element and the element clips it or
  scrolls it sideways (`overflow` other than visible: text cut off);
- an element spills out of its parent's drawn box (background, border or
  shadow) on the right: a row of totals running out of its card;
- a word of letters is broken across lines ("PAID ORDERS" stacked letter by
  letter). Tokens such as ids, emails and event types may wrap anywhere.
Elements hidden from view (display none, visually-hidden, zero size) and form
fields (whose value may be longer than the field) are left out.
"""

LAYOUT_SCRIPT = r"""
() => {
  const problems = [];
  const width = window.innerWidth;
  const slack = 1;  // sub-pixel rounding
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth > width + slack) {
    problems.push(`the page is ${scrollWidth}px wide in a ${width}px window`);
  }
  const describe = (element) => {
    let text = element.tagName.toLowerCase();
    if (element.id) text += '#' + element.id;
    const classes = [...element.classList].slice(0, 2);
    if (classes.length) text += '.' + classes.join('.');
    const label = (element.innerText || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return label ? `${text} "${label}"` : text;
  };
  const hidden = (element) => {
    for (let node = element; node && node !== document.body; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.display === 'none' || style.visibility === 'hidden') return true;
      if (style.clipPath === 'inset(50%)' || style.clip === 'rect(0px, 0px, 0px, 0px)') return true;
    }
    return false;
  };
  // A box one can see the edges of: spilling out of it shows (out of a bare wrapper it does not).
  const drawn = (element) => {
    if (element === document.body) return false;
    const style = getComputedStyle(element);
    const painted = style.backgroundColor !== 'rgba(0, 0, 0, 0)' || style.boxShadow !== 'none';
    const sides = ['Top', 'Right', 'Bottom', 'Left'];
    const bordered = sides.some((side) => parseFloat(style[`border${side}Width`]) > 0);
    return painted || bordered;
  };
  const fields = new Set(['INPUT', 'TEXTAREA', 'SELECT', 'OPTION', 'SCRIPT', 'STYLE', 'TEMPLATE']);
  const scrolling = new Set(['hidden', 'clip', 'auto', 'scroll']);
  const reported = [];  // one line for the outermost element of a problem, not one per descendant
  const report = (element, line) => { reported.push(element); problems.push(line); };
  for (const element of document.body.querySelectorAll('*')) {
    if (fields.has(element.tagName)) continue;
    if (reported.some((outer) => outer.contains(element))) continue;
    if (element.closest('svg') && element.tagName.toLowerCase() !== 'svg') continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(element);
    if (style.position === 'fixed' && box.right <= 0) continue;  // parked off screen (skip link)
    if (hidden(element)) continue;
    const left = box.left + window.scrollX;
    const right = box.right + window.scrollX;
    if (left < -slack || right > width + slack) {
      const span = `${Math.round(left)}..${Math.round(right)}px`;
      report(element, `${describe(element)} spans ${span} of a ${width}px window`);
      continue;
    }
    if (scrolling.has(style.overflowX) && element.scrollWidth > element.clientWidth + slack) {
      const sizes = `${element.scrollWidth}px in ${element.clientWidth}px`;
      report(element, `${describe(element)} cuts off or scrolls its content: ${sizes}`);
      continue;
    }
    const parent = element.parentElement;
    if (parent && drawn(parent) && style.position !== 'absolute' && style.position !== 'fixed') {
      const outer = parent.getBoundingClientRect();
      if (outer.width > 0 && box.right > outer.right + slack) {
        const spill = Math.round(box.right - outer.right);
        report(element, `${describe(element)} spills ${spill}px out of ${describe(parent)}`);
      }
    }
  }
  // Words broken across lines: a word of letters whose glyphs sit on two lines or more.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const owner = node.parentElement;
    if (!owner || fields.has(owner.tagName) || owner.closest('svg') || hidden(owner)) continue;
    // Whole words only: ids, emails and event types (a.b_c@d) may wrap at any character.
    for (const token of node.data.matchAll(/\S+/g)) {
      const word = token[0].match(/^\(?([A-Za-z]{2,})[,.;:!?)]*$/);
      if (!word) continue;
      const start = token.index + token[0].indexOf(word[1]);
      range.setStart(node, start);
      range.setEnd(node, start + word[1].length);
      const rects = [...range.getClientRects()].filter((rect) => rect.width > 0);
      const tops = new Set(rects.map((rect) => Math.round(rect.top)));
      if (tops.size > 1) {
        problems.push(`the word "${word[1]}" in ${describe(owner)} is broken across ${tops.size} lines`);
      }
    }
  }
  return problems;
}
"""

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def layout_problems(page) -> list[str]:
    return page.evaluate(LAYOUT_SCRIPT)


def assert_page_fits(page) -> None:
    viewport = page.viewport_size
    problems = layout_problems(page)
    assert problems == [], f"layout of {page.url} at {viewport['width']}x{viewport['height']}:\n" + "\n".join(
        problems
    )
