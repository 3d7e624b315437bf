// Predict mode and the presenter toggle, under the stepper's picture.
// Predict: each gradient a backward step sends is hidden ("grad ?") until the learner types
// it (Enter submits) or reveals it; a running score is shown. Presenter: big type, each
// step's new values held back until revealed (R or Reveal), and → / space / ← step.
// One panel, two back ends: the Jupyter widget (the default export; answers are checked in
// Python, so a hidden value never reaches the browser before it is answered) and the page
// Walkthrough.to_html() writes (createPanel + localPredictor, inlined; it checks answers
// against the values stored in the page, with gradlab.check's rule: same shape, then
// |answer - value| <= 1e-6 + 1e-4 × |value| element by element).

const PANEL_CSS = `
.gl-predict{font-family:system-ui,sans-serif;margin:.3em 0}
.gl-predict .gl-modes{display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}
.gl-predict .gl-score{font-weight:bold;color:#2f5f98}
.gl-predict .gl-q{display:flex;gap:.6em;align-items:center;flex-wrap:wrap;margin:.35em 0}
.gl-predict .gl-answer{font:inherit;font-family:monospace;width:14em;padding:.15em .4em}
.gl-predict .gl-verdict.right{color:#2e7d32}
.gl-predict .gl-verdict.wrong{color:#b3261e}
.gl-presenter{font-size:1.5em}
.gl-presenter .widget-html-content{font-size:1.5em}
.gl-presenter .jupyter-button{font-size:1.3em;height:auto}
.gl-presenter .gl-predict input[type=checkbox]{transform:scale(1.4)}
`;

const RTOL = 1e-4;
const ATOL = 1e-6;
const EXAMPLES = "(examples: 3, -64.0, 1/3, [6, 3, 2])";

// --- reading and checking an answer (gradlab/predict.py's parse_answer, gradlab.check) ---

export function parseAnswer(text) {
  let src = String(text).replace(/\u2212/g, "-").replace(/\u00d7/g, "*").replace(/\u00f7/g, "/").trim();
  const wrapped = /^(?:\w+\.)?(?:tensor|array)\(([\s\S]*)\)$/.exec(src);
  if (wrapped) src = wrapped[1].trim();
  if (!src) throw new Error("Type a number, or a list of numbers like [6, 3, 2].");
  const tokens = src.match(/\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\*\*|\S/g);
  let k = 0;
  const peek = () => tokens[k];
  const take = (t) => { if (tokens[k] !== t) throw new Error(); k++; };
  const num = (v) => { if (Array.isArray(v)) throw new Error(); return v; };
  function items(close, first) {
    const out = [first];
    while (peek() === ",") {
      k++;
      if (peek() === close) break;
      out.push(expr());
    }
    take(close);
    return out;
  }
  function atom() {
    const t = tokens[k++];
    if (t === "[") {
      if (peek() === "]") { k++; return []; }
      return items("]", expr());
    }
    if (t === "(") {
      const first = expr();
      if (peek() === ",") return items(")", first);
      take(")");
      return first;
    }
    if (t !== undefined && /^[\d.]/.test(t)) return Number(t);
    throw new Error();
  }
  function power() {
    const base = atom();
    if (peek() !== "**") return base;
    k++;
    const e = num(unary());
    if (Math.abs(e) > 64) throw new Error();
    return num(base) ** e;
  }
  function unary() {
    if (peek() === "-") { k++; return -num(unary()); }
    if (peek() === "+") { k++; return num(unary()); }
    return power();
  }
  function term() {
    let v = unary();
    while (peek() === "*" || peek() === "/") {
      const op = tokens[k++], r = num(unary());
      if (op === "/" && r === 0) throw new Error();
      v = op === "*" ? num(v) * r : num(v) / r;
    }
    return v;
  }
  function expr() {
    let v = term();
    while (peek() === "+" || peek() === "-") {
      const op = tokens[k++], r = num(term());
      v = op === "+" ? num(v) + r : num(v) - r;
    }
    return v;
  }
  try {
    const value = expr();
    if (k !== tokens.length || value === undefined) throw new Error();
    return value;
  } catch {
    throw new Error(`'${String(text).trim()}' cannot be read as a number or a list of numbers ${EXAMPLES}.`);
  }
}

// shape and flat values of a number or a (nested, not ragged) list
function flatten(x) {
  if (!Array.isArray(x)) return { shape: [], flat: [x] };
  const parts = x.map(flatten);
  const inner = parts.length ? parts[0].shape : [];
  for (const p of parts) {
    if (p.shape.join() !== inner.join()) throw new Error("ragged");
  }
  return { shape: [x.length, ...inner], flat: parts.flatMap((p) => p.flat) };
}

function shapeText(shape) {
  if (!shape.length) return "() (a single number)";
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

// why `got` is wrong against `want` (null if it is right), without naming `want`
export function problem(got, want) {
  let g;
  try { g = flatten(got); } catch { return "Your answer cannot be read as numbers."; }
  const w = flatten(want);
  if (g.shape.join() !== w.shape.join()) {
    return `Wrong shape: your answer has shape ${shapeText(g.shape)}, the answer has shape ${shapeText(w.shape)}.`;
  }
  let off = 0;
  for (let k = 0; k < w.flat.length; k++) {
    const a = g.flat[k], b = w.flat[k];
    const close = (Number.isNaN(a) && Number.isNaN(b)) || a === b || Math.abs(a - b) <= ATOL + RTOL * Math.abs(b);
    if (!close) off++;
  }
  if (!off) return null;
  return w.flat.length > 1 ? `Not quite: ${off} of ${w.flat.length} numbers are off.` : "Not quite.";
}

// --- the page's back end: the questions and answers stored in the page ---

// data: {frame: {text, notes, mask, questions: [{key, position, prompt, hint, answer, right,
// reveal}]}} (text, notes: the frame's narration and picture notes with the values held
// back; mask: the boxes whose new values presenter mode holds back)
export function localPredictor(data) {
  const status = new Map(), messages = new Map(), scored = new Map(), shown = new Set();
  const slot = (i, p) => `${i}:${p}`;
  function hidden(i, p) {
    const s = status.get(slot(i, p));
    return s !== "right" && s !== "revealed";
  }
  function settled(i) {
    return !data[i] || data[i].questions.every((q) => !hidden(i, q.position));
  }
  function holding(i, presenter) {
    return presenter && !!data[i] && data[i].mask.length > 0 && !shown.has(i);
  }
  function find(i, p) {
    return data[i].questions.find((q) => q.position === p);
  }
  return {
    // whether frame i hides something now (presenter: also its new values)
    hides(i, presenter) { return !settled(i) || holding(i, presenter); },
    text(i) { return data[i].text; },
    notes(i) { return data[i].notes; },
    mask(i, presenter) { return holding(i, presenter) ? data[i].mask : []; },
    answer(i, p, text) {
      const q = find(i, p), key = slot(i, p);
      let message, right = false;
      try {
        const wrong = problem(parseAnswer(text), q.answer);
        right = wrong === null;
        message = right ? q.right : `\u2717 ${wrong} Hint: ${q.hint}`;
        if (!scored.has(key)) scored.set(key, right);
        if (status.get(key) !== "revealed") status.set(key, right ? "right" : "wrong");
      } catch (error) {
        message = `\u2717 ${error.message}`;
      }
      messages.set(key, message);
    },
    reveal(i, p) {
      if (!data[i]) return;
      if (p === null || p === undefined) shown.add(i);
      for (const q of data[i].questions) {
        if (p !== null && p !== undefined && q.position !== p) continue;
        const key = slot(i, q.position);
        if (!scored.has(key)) scored.set(key, false);
        if (status.get(key) !== "right") {
          status.set(key, "revealed");
          messages.set(key, q.reveal);
        }
      }
    },
    state(i, presenter) {
      const questions = (data[i] ? data[i].questions : []).map((q) => ({
        key: q.key, position: q.position, prompt: q.prompt,
        status: status.get(slot(i, q.position)) || "open",
        message: messages.get(slot(i, q.position)) || "",
      }));
      let right = 0;
      for (const v of scored.values()) right += v ? 1 : 0;
      const held = holding(i, presenter);
      return { step: i, questions, held, score: `${right} of ${scored.size} right` };
    },
  };
}

// --- the panel ---

function addPanelStyle(doc) {
  if (doc.getElementById("gradlab-predict-css")) return;
  const style = doc.createElement("style");
  style.id = "gradlab-predict-css";
  style.textContent = PANEL_CSS;
  doc.head.appendChild(style);
}

// el: where the panel goes; root(): the element that gets big type in presenter mode;
// backend: {setModes(predict, presenter), answer(i, position, text), reveal(i, position),
// go(delta)}. update(state) draws state = {predict, presenter, step, questions, held, score}.
export function createPanel(el, root, backend) {
  const doc = el.ownerDocument;
  addPanelStyle(doc);
  el.classList.add("gl-predict");
  el.innerHTML =
    '<div class="gl-modes"><label><input type="checkbox" class="gl-predict-on"> Predict</label>' +
    '<label><input type="checkbox" class="gl-presenter-on"> Presenter</label>' +
    '<span class="gl-score" aria-live="polite"></span></div><div class="gl-questions"></div>' +
    '<div class="gl-held" hidden>This step\u2019s new values are hidden. ' +
    '<button class="gl-reveal-step">Reveal (R)</button></div>';
  const predictBox = el.querySelector(".gl-predict-on");
  const presenterBox = el.querySelector(".gl-presenter-on");
  const scoreEl = el.querySelector(".gl-score");
  const list = el.querySelector(".gl-questions");
  const heldEl = el.querySelector(".gl-held");
  heldEl.querySelector("button").addEventListener("click", () => backend.reveal(state.step, null));
  let state = { predict: false, presenter: false, step: -1, questions: [], score: "" };
  let drawn = null; // "step:predict:presenter" of the rows on screen

  const modes = () => backend.setModes(predictBox.checked, presenterBox.checked);
  predictBox.addEventListener("change", modes);
  presenterBox.addEventListener("change", modes);

  function row(q) {
    const div = doc.createElement("div");
    div.className = "gl-q";
    div.dataset.position = q.position;
    div.dataset.key = q.key;
    const prompt = doc.createElement("span");
    prompt.className = "gl-prompt";
    prompt.textContent = q.prompt;
    div.appendChild(prompt);
    if (state.predict) {
      const input = doc.createElement("input");
      input.className = "gl-answer";
      input.setAttribute("aria-label", q.prompt);
      input.placeholder = "3, -64.0, 1/3 or [6, 3, 2]";
      input.addEventListener("keydown", (ev) => {
        ev.stopPropagation(); // typing is not a notebook shortcut
        if (ev.key === "Enter") {
          ev.preventDefault();
          backend.answer(state.step, q.position, input.value);
        }
      });
      div.appendChild(input);
    }
    const reveal = doc.createElement("button");
    reveal.className = "gl-reveal";
    reveal.textContent = "Reveal";
    reveal.addEventListener("click", () => backend.reveal(state.step, q.position));
    div.appendChild(reveal);
    const verdict = doc.createElement("span");
    verdict.className = "gl-verdict";
    verdict.setAttribute("role", "status");
    div.appendChild(verdict);
    return div;
  }

  function update(next) {
    const before = state;
    const hadFocus = el.contains(doc.activeElement);
    state = next;
    predictBox.checked = state.predict;
    presenterBox.checked = state.presenter;
    el.classList.toggle("gl-presenting", state.presenter);
    root().classList.toggle("gl-presenter", state.presenter);
    scoreEl.textContent = state.predict ? state.score : "";
    heldEl.hidden = !(state.presenter && state.held);
    const hiding = state.predict || state.presenter;
    const id = `${state.step}:${state.predict}:${state.presenter}`;
    if (drawn !== id) {
      list.replaceChildren(...(hiding ? state.questions.map(row) : []));
      drawn = id;
    }
    let focusNext = false;
    for (const q of hiding ? state.questions : []) {
      const div = list.querySelector(`.gl-q[data-position="${q.position}"]`);
      const input = div.querySelector(".gl-answer");
      const verdict = div.querySelector(".gl-verdict");
      const done = q.status === "right" || q.status === "revealed";
      verdict.textContent = q.message;
      verdict.className = "gl-verdict " + q.status;
      div.dataset.status = q.status;
      div.querySelector(".gl-reveal").hidden = done;
      if (input) {
        const wasFocused = doc.activeElement === input;
        input.disabled = done;
        if (done && wasFocused) focusNext = true;
      }
      if (!done && focusNext && input) { input.focus(); focusNext = false; }
    }
    // stepping with the keyboard from inside the panel: on to the new step's first input
    if (hadFocus && before.step !== state.step && !el.contains(doc.activeElement)) {
      (el.querySelector(".gl-answer:not(:disabled)") || predictBox).focus();
    }
  }

  // presenter keys: → or space next, ← back, R reveals this step's values
  function onKey(ev) {
    // one stepper steps: the first one on the page in presenter mode
    if (!state.presenter || doc.querySelector(".gl-predict.gl-presenting") !== el) return;
    const t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    let handled = true;
    if (ev.key === "ArrowRight" || ev.key === " ") backend.go(1);
    else if (ev.key === "ArrowLeft") backend.go(-1);
    else if (ev.key === "r" || ev.key === "R") backend.reveal(state.step, null);
    else handled = false;
    if (handled) { ev.preventDefault(); ev.stopPropagation(); }
  }
  doc.addEventListener("keydown", onKey, true);

  const api = { update, get state() { return state; } };
  el.gradlabPredict = api;
  return api;
}

// the Jupyter widget: modes are synced traits, answers go to Python as messages
function renderPanel({ model, el }) {
  const root = () => el.closest(".gradlab-stepper") || el;
  const panel = createPanel(el, root, {
    setModes(predict, presenter) {
      model.set("predict", predict);
      model.set("presenter", presenter);
      model.save_changes();
    },
    answer(i, position, text) { model.send({ answer: [i, position, text] }); },
    reveal(i, position) { model.send({ reveal: [i, position] }); },
    go(delta) { model.send({ go: delta }); },
  });
  const draw = () => panel.update(Object.assign({}, model.get("state"), {
    predict: model.get("predict"), presenter: model.get("presenter"),
  }));
  model.on("change:state", draw);
  model.on("change:predict", draw);
  model.on("change:presenter", draw);
  draw();
  // the stepper box exists only once the panel is attached to it
  requestAnimationFrame(() => root().classList.toggle("gl-presenter", model.get("presenter")));
}

export default { render: renderPanel };
