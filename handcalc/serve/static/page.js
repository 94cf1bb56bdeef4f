// handcalc serve: keeps the entries in the browser's storage, asks the server to grade them when a
// step is filled, and shows each entry's verdict and each step's diagnosis. No other address is
// ever asked: the page works on the machine the server runs on, or across a class's network.
"use strict";

(function () {
  const body = document.body;
  const sheet = body.dataset.sheet;
  if (!sheet) return; // the exam's variant form: nothing to keep
  const variant = body.dataset.variant || null;
  const storageKey = "handcalc-serve:" + sheet;
  const inputs = Array.from(document.querySelectorAll("input[data-step]"));
  const steps = new Map();
  for (const input of inputs) {
    const id = input.dataset.step;
    if (!steps.has(id)) steps.set(id, []);
    steps.get(id)[Number(input.dataset.i)] = input;
  }
  const status = document.getElementById("status");
  const score = document.getElementById("score");
  let asked = 0; // the number of the latest grading request: older answers are dropped
  let graded = new Set(); // steps with feedback shown, which later entries may change

  function typed() {
    const out = {};
    for (const [id, boxes] of steps) {
      const texts = boxes.map((b) => b.value.trim());
      if (texts.some((t) => t !== "")) out[id] = texts;
    }
    return out;
  }

  function save() {
    try {
      localStorage.setItem(storageKey, JSON.stringify(typed()));
    } catch (e) {
      say("Your browser did not keep the entries (" + e.name + "): download them to keep them.");
    }
  }

  function fill(answers) {
    for (const [id, boxes] of steps) {
      const texts = answers[id] || [];
      boxes.forEach((b, i) => { b.value = typeof texts[i] === "string" ? texts[i] : ""; });
    }
  }

  function restore() {
    let kept = null;
    try {
      kept = JSON.parse(localStorage.getItem(storageKey) || "null");
    } catch (e) {
      kept = null;
    }
    if (kept && typeof kept === "object") fill(kept);
  }

  function say(text) {
    status.textContent = text;
  }

  async function post(path, payload) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ variant: variant }, payload)),
    });
    if (!response.ok) {
      let reason = response.statusText;
      try { reason = (await response.json()).error || reason; } catch (e) { /* not JSON */ }
      throw new Error(reason);
    }
    return response;
  }

  // body[data-state]: waiting (a change not yet sent), grading, or graded (the page is settled)
  async function grade() {
    const number = ++asked;
    body.dataset.state = "grading";
    let result;
    try {
      result = await (await post("/api/grade", { answers: typed() })).json();
    } catch (e) {
      if (number === asked) body.dataset.state = "graded";
      say("Not graded: " + e.message);
      return;
    }
    if (number !== asked) return;
    show(result);
    body.dataset.state = "graded";
  }

  function show(result) {
    graded = new Set(Object.keys(result.steps));
    for (const [id, boxes] of steps) {
      const got = result.steps[id];
      boxes.forEach((b, i) => {
        b.classList.remove("correct", "carried", "wrong", "unreadable");
        const verdict = got ? got.verdicts[i] : "blank";
        if (verdict !== "blank") b.classList.add(verdict);
        b.dataset.verdict = verdict;
        b.setAttribute("aria-invalid", verdict === "wrong" || verdict === "unreadable");
        const key = b.nextElementSibling;
        key.textContent = got && got.keys[i] !== null ? "key " + got.keys[i] : "";
      });
      feedback(document.getElementById("step-" + id).querySelector(".feedback"), got);
    }
    score.textContent = Object.keys(result.steps).length ? result.score : "";
    say(result.problems.concat(result.notes).join("; "));
  }

  function feedback(box, got) {
    box.replaceChildren();
    if (!got) return;
    const line = document.createElement("p");
    line.className = "line";
    line.textContent = got.line;
    box.append(line);
    // the server builds these from the engine's words and the notes' notation, escaped as MathML
    if (got.carried) box.append(html("p", "carried-from", got.carried));
    for (const slip of got.slips) {
      box.append(html("p", "slip", slip.slip));
      if (slip.formula) box.append(html("p", "hint", slip.formula));
    }
  }

  function html(tag, cls, markup) {
    const node = document.createElement(tag);
    node.className = cls;
    node.innerHTML = markup;
    return node;
  }

  function complete(id) {
    return steps.get(id).every((b) => b.value.trim() !== "");
  }

  let timer = null;
  function later() {
    clearTimeout(timer);
    body.dataset.state = "waiting";
    timer = setTimeout(grade, 120);
  }

  for (const input of inputs) {
    input.addEventListener("input", save);
    input.addEventListener("change", () => {
      const id = input.dataset.step;
      if (complete(id) || graded.has(id)) later();
    });
  }

  document.getElementById("download").addEventListener("click", async () => {
    try {
      const text = await (await post("/api/answers", { answers: typed() })).text();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], { type: "text/yaml" }));
      link.download = variant ? "answers-variant-" + variant + ".yaml" : "answers.yaml";
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (e) {
      say("Not downloaded: " + e.message);
    }
  });

  document.getElementById("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    body.dataset.state = "waiting";
    try {
      const result = await (await post("/api/upload", { text: await file.text() })).json();
      fill(result.answers);
      save();
      await grade();
      if (result.problems.length) say(result.problems.join("; "));
    } catch (e) {
      say("Not read: " + e.message);
    }
  });

  const clear = document.getElementById("clear");
  clear.addEventListener("click", () => {
    if (clear.dataset.armed !== "yes") {
      clear.dataset.armed = "yes";
      clear.textContent = "Click again to clear every entry";
      return;
    }
    clear.dataset.armed = "";
    clear.textContent = "Clear all entries";
    fill({});
    save();
    grade();
  });

  restore();
  if (Object.keys(typed()).length) grade();
})();
