"""The page ``Walkthrough.to_html()`` writes: the picture stored once plus each step's
changes, stepped by the widget's own script (``gradlab/widgets/stepper.js``, inlined), so
it works from ``file://`` with no kernel and no network.

>>> import gradlab
>>> text = gradlab.Walkthrough(gradlab.examples.multiply()).to_html()
>>> text.startswith("<!DOCTYPE html>") and "createView" in text
True
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradlab.stepview import StepView

__all__ = ["page"]

ESM = Path(__file__).with_name("widgets") / "stepper.js"
#: predict mode and the presenter toggle: the widget's panel, also inlined
PREDICT_ESM = Path(__file__).with_name("widgets") / "predict.js"


def script() -> str:
    """The stepper's and the predict panel's ESM as a plain script (exports dropped)."""
    text = "\n".join(f.read_text(encoding="utf-8") for f in (ESM, PREDICT_ESM))
    text = text.replace("export function ", "function ")
    return re.sub(r"^export default .*$", "", text, flags=re.M)


def page(view: StepView, title: str) -> str:
    """The whole page for one walkthrough's picture."""
    from gradlab.predict import Predictor
    from gradlab.stepview import to_json

    steps = {i: view.step(i) for i in range(view.last + 1)}
    data = f"const START = {to_json(view.start())};\nconst STEPS = {to_json(steps)};\n"
    data += f"const PREDICT = {to_json(Predictor(view.w).page_data(steps))};\n"
    body = script().replace("</script", "<\\/script")
    return (
        _PAGE.replace("{{title}}", html.escape(title))
        .replace("{{data}}", data)
        .replace("{{script}}", body)
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1em 1.5em; color: #222; }
#controls { display: flex; align-items: center; gap: .4em; flex-wrap: wrap; }
#controls button { font-size: 1.05em; padding: .3em .9em; }
#slider { flex: 1 1 12em; }
#source { font-family: monospace; background: #f4f4f4; padding: .3em .6em;
  border-left: 4px solid #2f5f98; white-space: pre-wrap; }
#narration { font-size: 1.15em; margin: .5em 0; min-height: 2.6em; }
</style></head><body>
<div id="controls"><button id="prev">&#9664; Prev</button><button id="next">Next &#9654;</button>
<button id="reset">Reset</button><button id="play">&#9654; Play</button>
<input id="slider" type="range" min="0" value="0"><span id="counter"></span>
<label><input id="tall" type="checkbox"> Full size</label></div>
<p><code id="source"></code></p><p id="narration"></p><div id="predict"></div>
<div id="frame"></div>
<script>
{{data}}
{{script}}
const view = createView(document.getElementById("frame"), START, null);
view.add(STEPS);
const slider = document.getElementById("slider");
slider.max = START.n - 1;
let timer = null;
const predictor = localPredictor(PREDICT);
let modes = { predict: false, presenter: false };
const hiding = (k) =>
  (modes.predict || modes.presenter) && !!PREDICT[k] && predictor.hides(k, modes.presenter);
const panel = createPanel(document.getElementById("predict"), () => document.body, {
  setModes(predict, presenter) {
    modes = { predict, presenter };
    view.setBig(presenter);
    show(view.index);
  },
  answer(i, position, text) { predictor.answer(i, position, text); show(i); },
  reveal(i, position) { predictor.reveal(i, position); show(i); },
  go(delta) { show(view.index + delta); },
});
function show(k) {
  k = Math.max(0, Math.min(START.n - 1, k));
  const mask = predictor.mask(k, modes.presenter);
  const held = hiding(k) ? { notes: predictor.notes(k), mask } : {};
  view.add({ [k]: Object.assign({}, STEPS[k], held) });
  view.go(k);
  const i = view.index, s = STEPS[i];
  document.getElementById("narration").textContent = hiding(i) ? predictor.text(i) : s.text;
  panel.update(Object.assign(predictor.state(i, modes.presenter), modes));
  document.getElementById("source").textContent = s.source;
  document.getElementById("counter").textContent =
    "step " + (i + 1) + " / " + START.n + " \\u00b7 " + s.phase;
  document.getElementById("prev").disabled = i === 0;
  document.getElementById("reset").disabled = i === 0;
  document.getElementById("next").disabled = i === START.n - 1;
  slider.value = i;
  if (timer && i === START.n - 1) play();
}
function play() {
  const button = document.getElementById("play");
  if (timer) { clearInterval(timer); timer = null; button.innerHTML = "&#9654; Play"; return; }
  timer = setInterval(() => show(view.index + 1), 1500);
  button.innerHTML = "&#10074;&#10074; Pause";
}
document.getElementById("prev").onclick = () => show(view.index - 1);
document.getElementById("next").onclick = () => show(view.index + 1);
document.getElementById("reset").onclick = () => show(0);
document.getElementById("play").onclick = play;
document.getElementById("tall").onchange = (e) => view.setTall(e.target.checked);
slider.oninput = () => show(Number(slider.value));
document.addEventListener("keydown", (e) => {
  if (e.key === "ArrowRight") show(view.index + 1);
  if (e.key === "ArrowLeft") show(view.index - 1);
});
show(0);
</script></body></html>
"""
