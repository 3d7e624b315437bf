// The walkthrough's picture in the browser: a focus view (the current step at readable
// size, wheel to zoom, drag to pan), an overview of the whole graph with the focus marked,
// and a detail panel (click a box: its full data and grad).
// The drawing arrives once; each step is a small record (see gradlab/stepview.py).
// Used by the Jupyter widget (anywidget: the default export) and, inlined, by the page
// that Walkthrough.to_html() writes (createView).

const MIN_SCALE = 1.2; // drawing text is 10 units: at least 12 px on screen
const MAX_SCALE = 2.0;
const BIG = 1.6; // presenter mode: text this much larger
const NS = "http://www.w3.org/2000/svg";

const CSS = `
.gradlab-view{display:flex;gap:8px;width:100%;font-family:system-ui,sans-serif}
.gradlab-view .gl-focus{flex:1 1 auto;min-width:0;height:440px;border:1px solid #ccc;
  overflow:hidden;cursor:grab;touch-action:none;background:white;position:relative}
.gradlab-view.gl-tall .gl-focus,.gradlab-view.gl-big .gl-focus{height:80vh}
.gradlab-view .gl-focus svg{position:absolute;left:0;top:0;transform-origin:0 0;
  display:block;user-select:none;max-width:none}
.gradlab-view .gl-side{flex:0 0 260px;display:flex;flex-direction:column;gap:6px;min-width:0}
.gradlab-view .gl-overview{height:150px;border:1px solid #ccc;background:#fafafa;cursor:pointer}
.gradlab-view .gl-overview svg{width:100%;height:100%;display:block}
.gradlab-view .gl-detail{margin:0;padding:6px;background:#f4f4f4;color:#1f1f1f;
  font:12px/1.35 monospace;white-space:pre;overflow:auto;max-height:280px;flex:1 1 auto}
.gradlab-view g.box{cursor:pointer}
`;

function addStyle(root) {
  const doc = root.ownerDocument;
  if (doc.getElementById("gradlab-view-css")) return;
  const style = doc.createElement("style");
  style.id = "gradlab-view-css";
  style.textContent = CSS;
  doc.head.appendChild(style);
}

function sortedBy(elements, attr) {
  const out = elements
    .filter((e) => e.hasAttribute(attr))
    .map((e) => [Number(e.getAttribute(attr)), e]);
  out.sort((a, b) => a[0] - b[0]);
  return out;
}

// first index in sorted pairs whose number is > x
function upper(pairs, x) {
  let lo = 0, hi = pairs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pairs[mid][0] <= x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

export function createView(el, start, request) {
  addStyle(el);
  el.classList.add("gradlab-view");
  el.innerHTML =
    '<div class="gl-focus"></div><div class="gl-side"><div class="gl-overview"></div>' +
    '<pre class="gl-detail">Click a box:\nits full data\nand grad.</pre></div>';
  const focusEl = el.querySelector(".gl-focus");
  const detailEl = el.querySelector(".gl-detail");
  focusEl.innerHTML = start.svg;
  const svg = focusEl.querySelector("svg");
  // the drawing keeps its own size; the view moves and scales it with a CSS transform
  // (composited: no SVG layout per step, as changing its viewBox would cost)
  const [, , W, H] = svg.getAttribute("viewBox").split(" ").map(Number);
  const notesLayer = document.createElementNS(NS, "g");
  svg.appendChild(notesLayer);

  const byKey = new Map();
  const labelOf = new Map();
  for (const g of svg.querySelectorAll("g.box, g.edge")) byKey.set(g.dataset.k, g);
  for (const g of svg.querySelectorAll("g.elabel")) labelOf.set(g.dataset.k, g);
  const all = [...byKey.values()];
  const appear = sortedBy(all, "data-at");
  const leave = sortedBy(all, "data-until");
  const details = Object.assign({}, start.details);
  const steps = new Map();
  let cur = -1;
  let lit = [];
  let view = [0, 0, W, H];

  // overview: every box as a small rectangle, plus the focus frame
  const ov = document.createElementNS(NS, "svg");
  ov.setAttribute("viewBox", `0 0 ${W} ${H}`);
  ov.setAttribute("preserveAspectRatio", "xMidYMid meet");
  const colours = { branch: "#d4b08a", leaf: "#a5d6a7", dried: "#f6e27f", node: "#b3cdf0" };
  const ovBox = new Map();
  for (const g of svg.querySelectorAll("g.box")) {
    const [x, y, w, h] = g.dataset.r.split(" ").map(Number);
    const r = document.createElementNS(NS, "rect");
    const kind = [...g.classList].find((c) => c.startsWith("k-")).slice(2);
    r.setAttribute("x", x); r.setAttribute("y", y);
    r.setAttribute("width", w); r.setAttribute("height", h);
    r.setAttribute("fill", colours[kind] || "#ccc");
    ov.appendChild(r);
    ovBox.set(g.dataset.k, r);
  }
  const frameRect = document.createElementNS(NS, "rect");
  frameRect.setAttribute("fill", "none");
  frameRect.setAttribute("stroke", "#d9480f");
  frameRect.setAttribute("vector-effect", "non-scaling-stroke");
  frameRect.setAttribute("stroke-width", "2");
  ov.appendChild(frameRect);
  el.querySelector(".gl-overview").appendChild(ov);

  function setView(v) {
    view = v;
    const s = screen()[0] / v[2];
    svg.style.transform = `translate(${-v[0] * s}px, ${-v[1] * s}px) scale(${s})`;
    svg.dataset.view = v.map((n) => n.toFixed(1)).join(" ");
    frameRect.setAttribute("x", v[0]); frameRect.setAttribute("y", v[1]);
    frameRect.setAttribute("width", v[2]); frameRect.setAttribute("height", v[3]);
  }

  // the focus view's size, kept up to date without asking for a layout at each step
  let size = null;
  new ResizeObserver(() => {
    size = null;
    if (cur >= 0) focusOn(steps.get(cur).focus);
  }).observe(focusEl);
  function screen() {
    if (!size) {
      const r = focusEl.getBoundingClientRect();
      size = [Math.max(r.width, 100), Math.max(r.height, 100)];
    }
    return size;
  }

  function scale() {
    const [cw] = screen();
    return cw / view[2];
  }

  // the focus rectangle at readable size: scale between MIN_SCALE and MAX_SCALE
  function focusOn(f) {
    const [cw, ch] = screen();
    const k = el.classList.contains("gl-big") ? BIG : 1;
    const s = Math.min(MAX_SCALE * k, Math.max(MIN_SCALE * k, Math.min(cw / f[2], ch / f[3])));
    const w = cw / s, h = ch / s;
    const cx = f[0] + f[2] / 2, cy = f[1] + f[3] / 2;
    setView([cx - w / 2, cy - h / 2, w, h]);
  }

  // a box's rows (its tag last) one under the other from where its first row sits
  function setRows(key, rows) {
    const g = byKey.get(key);
    if (!g) return;
    const texts = [...g.querySelectorAll("text.row, text.tag")];
    if (!texts.length) return;
    const y0 = Number(texts[0].getAttribute("y"));
    const pitch = 13.2; // gradlab/drawing/_text.py: ROW_SIZE * LINE
    for (let k = 0; k < rows.length; k++) {
      let t = texts[k];
      if (!t) {
        t = texts[0].cloneNode(false);
        g.appendChild(t);
        texts.push(t);
      }
      t.setAttribute("y", (y0 + k * pitch).toFixed(1));
      t.textContent = rows[k];
      t.setAttribute("class", rows[k].includes("(freed)") ? "row freed"
        : rows[k].includes("now v") ? "row stale" : "row");
      t.style.display = "";
    }
    for (let k = rows.length; k < texts.length; k++) texts[k].style.display = "none";
  }

  function visible(e, i) {
    const at = Number(e.getAttribute("data-at"));
    const until = e.hasAttribute("data-until") ? Number(e.getAttribute("data-until")) : Infinity;
    return at <= i && i < until;
  }

  function setVisibility(from, to) {
    const lo = Math.min(from, to), hi = Math.max(from, to);
    const touched = new Set();
    for (const list of [appear, leave]) {
      for (let k = upper(list, lo); k < list.length && list[k][0] <= hi; k++) touched.add(list[k][1]);
    }
    for (const e of touched) {
      const show = visible(e, to);
      e.classList.toggle("hidden", !show);
      const label = labelOf.get(e.dataset.k);
      if (label) label.classList.toggle("hidden", !show);
      const o = ovBox.get(e.dataset.k);
      if (o) o.setAttribute("opacity", show ? "1" : "0.25");
    }
  }

  function note(x, y, text, cls) {
    const g = document.createElementNS(NS, "g");
    g.setAttribute("class", cls);
    const t = document.createElementNS(NS, "text");
    t.textContent = text;
    const w = text.length * 6.02 + 10;
    const r = document.createElementNS(NS, "rect");
    r.setAttribute("x", x - w / 2); r.setAttribute("y", y - 9);
    r.setAttribute("width", w); r.setAttribute("height", 18); r.setAttribute("rx", 5);
    t.setAttribute("x", x - w / 2 + 5); t.setAttribute("y", y + 3.5);
    g.appendChild(r); g.appendChild(t);
    notesLayer.appendChild(g);
  }

  // presenter mode holds a step's new values back: rec.mask names the boxes whose
  // values read "?" while that step is shown (their texts come back when it is left)
  let masked = [];
  function unmask() {
    for (const [t, text] of masked) t.textContent = text;
    masked = [];
  }
  function mask(keys) {
    for (const k of keys || []) {
      for (const t of byKey.get(k)?.querySelectorAll("text.row") || []) {
        const text = t.textContent, m = /^(data|grad): /.exec(text);
        if (!m && !/^ [[…]/.test(text)) continue;
        masked.push([t, text]);
        t.textContent = m ? `${m[1]}: ?` : "";
      }
    }
  }

  function show(rec) {
    mask(rec.mask);
    for (const k of lit) {
      const g = byKey.get(k);
      if (g) g.classList.remove("lit", "err");
    }
    lit = [...rec.lit, ...rec.err];
    for (const k of rec.lit) byKey.get(k)?.classList.add("lit");
    for (const k of rec.err) byKey.get(k)?.classList.add("err");
    notesLayer.replaceChildren();
    for (const n of rec.notes) {
      const g = byKey.get(n[1]);
      if (!g) continue;
      if (n[0] === "b") {
        const [x, y] = g.dataset.r.split(" ").map(Number);
        const w = n[2].length * 6.02 + 10;
        note(x + w / 2, y - 12, n[2], n[3] ? "note err" : "note");
      } else {
        const [x, y] = g.dataset.l.split(" ").map(Number);
        note(x, y, n[2], "note");
      }
    }
    focusOn(rec.focus);
  }

  function missing(lo, hi) {
    for (let k = lo; k <= hi; k++) if (!steps.has(k)) return true;
    return false;
  }

  // go to step j: forward, apply each step's rows; back, each step's undo
  let target = null;
  function go(j) {
    j = Math.max(0, Math.min(start.n - 1, j));
    const a = cur < 0 ? 0 : j > cur ? cur + 1 : j;
    const b = cur < 0 ? j : Math.max(cur, j);
    if (missing(a, b)) {
      target = j;
      if (request) request(a, b);
      return;
    }
    target = null;
    unmask();
    const from = Math.max(cur, 0);
    if (cur < 0) cur = 0;
    while (cur < j) {
      cur++;
      const s = steps.get(cur);
      for (const k in s.rows) setRows(k, s.rows[k]);
      Object.assign(details, s.det);
    }
    while (cur > j) {
      const s = steps.get(cur);
      for (const k in s.undo) setRows(k, s.undo[k]);
      Object.assign(details, s.undet);
      cur--;
    }
    setVisibility(from, j);
    show(steps.get(j));
    el.dataset.step = String(j);
  }

  // all elements start hidden; step 0 shows what is there at 0
  for (const e of all) {
    e.classList.toggle("hidden", !visible(e, 0));
    ovBox.get(e.dataset.k)?.setAttribute("opacity", visible(e, 0) ? "1" : "0.25");
  }
  for (const [k, l] of labelOf) l.classList.toggle("hidden", !visible(byKey.get(k), 0));

  // wheel zoom around the pointer, drag to pan, click a box for its values
  focusEl.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = focusEl.getBoundingClientRect();
    const fx = (ev.clientX - r.left) / r.width, fy = (ev.clientY - r.top) / r.height;
    const k = Math.exp(ev.deltaY * 0.0015);
    const cw = screen()[0];
    const w = Math.min(Math.max(view[2] * k, cw / 4), Math.max(W, H, cw) * 2);
    const h = view[3] * (w / view[2]);
    setView([view[0] + (view[2] - w) * fx, view[1] + (view[3] - h) * fy, w, h]);
  }, { passive: false });
  let drag = null;
  focusEl.addEventListener("pointerdown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, v: view.slice(), moved: false };
  });
  focusEl.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) {
      const s = scale();
      setView([drag.v[0] - dx / s, drag.v[1] - dy / s, drag.v[2], drag.v[3]]);
    }
  });
  focusEl.addEventListener("pointerup", (ev) => {
    const d = drag;
    drag = null;
    if (d && !d.moved) {
      const g = ev.target.closest && ev.target.closest("g.box");
      if (g) showDetail(g);
    }
  });
  ov.addEventListener("click", (ev) => {
    const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(ov.getScreenCTM().inverse());
    setView([p.x - view[2] / 2, p.y - view[3] / 2, view[2], view[3]]);
  });

  function showDetail(g) {
    const key = g.dataset.k;
    const title = g.querySelector("text.title").textContent;
    const rows = [...g.querySelectorAll("text.row, text.tag")]
      .filter((t) => t.style.display !== "none").map((t) => t.textContent);
    detailEl.textContent = details[key] || [title, ...rows].join("\n");
    detailEl.dataset.k = key;
  }

  const api = {
    add(records) {
      for (const k in records) steps.set(Number(k), records[k]);
      if (target !== null) go(target);
    },
    go,
    get index() { return cur; },
    setTall(on) { el.classList.toggle("gl-tall", on); if (cur >= 0) focusOn(steps.get(cur).focus); },
    // presenter mode: big type (and a tall view)
    setBig(on) { el.classList.toggle("gl-big", on); if (cur >= 0) focusOn(steps.get(cur).focus); },
    get scale() { return scale(); },
    // centre the focus view on a point of the drawing
    center(x, y) { setView([x - view[2] / 2, y - view[3] / 2, view[2], view[3]]); },
  };
  el.gradlabView = api;
  return api;
}

// the Jupyter widget: the drawing once, then steps as custom messages
function render({ model, el }) {
  const view = createView(el, model.get("start"), (lo, hi) => model.send({ need: [lo, hi] }));
  model.on("msg:custom", (msg) => {
    if (msg.steps) view.add(msg.steps);
    if (msg.tall !== undefined) view.setTall(msg.tall);
    if (msg.to !== undefined) view.go(msg.to);
  });
  const big = () => view.setBig(!!model.get("big"));
  model.on("change:big", big);
  big();
  model.send({ ready: true });
}

export default { render };
