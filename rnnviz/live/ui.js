// rnnviz dashboard, part 3 of 6: the widget's own HTML: header, status line, controls and time
// row, and how they follow the traits (the "status" trait is the status line's one source).

// Every word shown comes from the "labels" trait (rnnviz/live/_labels.py, translated in
// Python); fill() puts values into its {name} fields.
const SPEEDS = [0, 1, 2, 5, 10, 50];

function fill(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

function speedLabel(L, v) {
  return v === 0 ? L.speed_max : v === 1 ? L.speed_one : String(v);
}

function h(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(e.dataset, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function fmt(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 1e-3)) {
    return value.toExponential(2);
  }
  return value.toFixed(digits);
}

// The elements, in a <div class="rnnviz-dashboard"> appended to el; figures go into ui.grid.
function buildUi(model, el) {
  const T = model.get("seq_len");
  const L = model.get("labels");
  const ui = {
    T,
    L,
    root: h("div", { className: "rnnviz-dashboard", dataset: { frames: "0", seq: "0" } }),
    title: h("div", { className: "rnnviz-title", textContent: model.get("title") }),
    status: h("div", { className: "rnnviz-status" }),
    note: h("div", { className: "rnnviz-note" }),
    banner: h("div", { className: "rnnviz-banner", hidden: true }),
    play: h("button", { className: "rnnviz-play", title: L.play_tip }),
    stepBtn: h("button", { className: "rnnviz-step", textContent: L.step,
                           title: L.step_tip }),
    tBtn: h("button", { className: "rnnviz-tstep", textContent: L.t_step,
                        title: L.t_step_tip }),
    resetBtn: h("button", { className: "rnnviz-reset", textContent: L.reset,
                            title: L.reset_tip }),
    speed: h("select", { className: "rnnviz-speed", title: L.speed_tip },
      SPEEDS.map((v) => h("option", { value: String(v), textContent: speedLabel(L, v) }))),
    lr: h("input", { className: "rnnviz-lr", type: "range", min: "-4", max: "0",
                     step: "0.05", title: L.lr_tip }),
    lrText: h("span", { className: "rnnviz-value" }),
    clipOn: h("input", { className: "rnnviz-clip-on", type: "checkbox",
                         title: L.clip_tip }),
    clipVal: h("input", { className: "rnnviz-clip", type: "number", min: "0.01",
                          step: "0.1", title: L.clip_value_tip }),
    tSlider: h("input", { className: "rnnviz-t", type: "range", min: "0",
                          max: String(T - 1), step: "1", title: L.t_tip }),
    tText: h("span", { className: "rnnviz-value rnnviz-tvalue" }),
    sampleSel: h("select", { className: "rnnviz-sample", title: L.sample_tip },
      Array.from({ length: model.get("probe_size") }, (_, i) =>
        h("option", { value: String(i), textContent: fill(L.sequence, { i }) }))),
    readout: h("div", { className: "rnnviz-readout" }),
    grid: h("div", { className: "rnnviz-grid" }),
  };
  const group = (label, ...kids) =>
    h("label", { className: "rnnviz-group" }, [h("span", { textContent: label }), ...kids]);
  const controls = h("div", { className: "rnnviz-controls" }, [
    ui.play, ui.stepBtn, ui.resetBtn,
    group(L.speed, ui.speed),
    group(L.lr, ui.lr, ui.lrText),
    group(L.clip, ui.clipOn, ui.clipVal),
  ]);
  const timeRow = h("div", { className: "rnnviz-controls rnnviz-time" }, [
    ui.tBtn, group(L.t, ui.tSlider, ui.tText), group(L.show, ui.sampleSel), ui.readout,
  ]);
  ui.root.append(h("div", { className: "rnnviz-head" }, [ui.title, ui.status]), ui.note,
                 ui.banner, controls, timeRow, ui.grid);
  el.append(ui.root);
  return ui;
}

// Controls -> traits (and the step / reset messages).
function bindControls(model, ui) {
  const save = (name, value) => { model.set(name, value); model.save_changes(); };
  ui.play.onclick = () => save("playing", !model.get("playing"));
  ui.stepBtn.onclick = () => model.send({ type: "step" });
  ui.resetBtn.onclick = () => model.send({ type: "reset" });
  ui.tBtn.onclick = () => save("t", (model.get("t") + 1) % ui.T);
  ui.speed.onchange = () => save("steps_per_frame", Number(ui.speed.value));
  ui.lr.oninput = () => { ui.lrText.textContent = fmt(10 ** Number(ui.lr.value), 4); };
  ui.lr.onchange = () => save("lr", Number((10 ** Number(ui.lr.value)).toPrecision(3)));
  ui.clipOn.onchange = () => save("clip_enabled", ui.clipOn.checked);
  ui.clipVal.onchange = () => {
    const v = Number(ui.clipVal.value);
    if (v > 0) save("clip_value", v); else ui.clipVal.value = String(model.get("clip_value"));
  };
  ui.tSlider.oninput = () => save("t", Number(ui.tSlider.value));
  ui.sampleSel.onchange = () => save("sample", Number(ui.sampleSel.value));
}

// Traits -> controls.
function syncControls(model, ui) {
  const playing = model.get("playing");
  ui.play.textContent = playing ? ui.L.pause : ui.L.play;
  ui.play.classList.toggle("rnnviz-on", playing);
  ui.speed.value = String(model.get("steps_per_frame"));
  if (ui.speed.selectedIndex < 0) ui.speed.value = "0";
  ui.lr.value = String(Math.log10(model.get("lr")));
  ui.lrText.textContent = fmt(model.get("lr"), 4);
  ui.clipOn.checked = model.get("clip_enabled");
  ui.clipVal.value = String(model.get("clip_value"));
  ui.clipVal.disabled = !model.get("clip_enabled");
  ui.sampleSel.value = String(model.get("sample"));
}

// The "status" trait -> the status line and the banner.
function syncStatus(model, ui) {
  const s = model.get("status");
  const st = s.state;
  const L = ui.L;
  const parts = [
    fill(L.status_step, { step: s.step }),
    fill(L.status_loss, { loss: fmt(s.loss) }),
    `${model.get("metric_name")} ${fmt(s.metric, 3)}`,
    fill(L.status_speed, { speed: fmt(s.steps_per_s, 1) }),
  ];
  ui.status.textContent = `${L.states[st] || st} · ${parts.join(" · ")}`;
  ui.status.dataset.state = st;
  ui.root.dataset.status = st;
  const msg = s.message || "";
  ui.banner.hidden = !msg;
  ui.banner.textContent = msg; // the status line says "diverged"; the message says what to do
  ui.banner.classList.toggle("rnnviz-error", st === "diverged" || msg.startsWith(L.error));
  ui.stepBtn.disabled = st === "diverged";
  ui.play.disabled = st === "diverged";
}

function syncNote(model, ui) {
  ui.note.textContent = model.get("note");
  ui.note.hidden = !model.get("note");
}

// The time cursor's slider, its value and the readout of the shown sequence at t.
function showT(model, ui, readout) { // every frame: the page is touched only if text changed
  const t = model.get("t");
  const set = (e, key, v) => { if (e[key] !== v) e[key] = v; };
  set(ui.tSlider, "value", String(t));
  set(ui.tText, "textContent", `${t} / ${ui.T - 1}`);
  set(ui.readout, "textContent", readout[t] ? fill(ui.L.readout, { t, what: readout[t] }) : "");
}

// Controls and status follow their traits from now on.
function followTraits(dash) {
  const { model, ui } = dash;
  bindControls(model, ui);
  syncControls(model, ui);
  syncStatus(model, ui);
  syncNote(model, ui);
  dash.listen("change:note", () => syncNote(model, ui));
  for (const name of ["playing", "steps_per_frame", "lr", "clip_enabled", "clip_value",
                      "sample"]) {
    dash.listen(`change:${name}`, () => syncControls(model, ui));
  }
  dash.listen("change:status", () => syncStatus(model, ui));
}
