// rnnviz dashboard, part 6 of 6: the widget's render, which puts the parts together.
//
// The parts, joined in this order into one ES module by _assets.py (each uses only what the
// parts before it define):
//   1. plotly_adapter.js  the one place that knows plotly.js (loading, drawing, internals)
//   2. paint.js           canvas overlays: a frame painted without a plotly redraw
//   3. ui.js              the widget's HTML, controls <-> traits, the status line
//   4. figures.js         each figure: laid out for its slot and the theme, time cursor
//   5. frames.js          frames: decoded, applied, acknowledged
//   6. dashboard.js       render

async function render({ model, el }) {
  const dash = {
    model, closed: false, cleanups: [],
    ui: null, figs: {}, readout: [], revision: 0, staleTimer: null, ackTimer: null,
    stats: { fast: 0, full: 0, fastMs: 0, fullMs: 0, byFig: {}, why: {} },
    listen(name, fn) { model.on(name, fn); this.cleanups.push(() => model.off(name, fn)); },
  };
  // 1. the frame of the dashboard, and its controls and status from the traits
  dash.ui = buildUi(model, el);
  followTraits(dash);
  // 2. the figures, created and drawn once (plotly.js asked from the kernel first)
  try {
    await PlotlyAdapter.load(model);
  } catch (err) {
    dash.ui.grid.textContent = String(err);
    throw err;
  }
  dash.figs = createFigures(dash);
  await drawFirst(dash);
  showT(model, dash.ui, dash.readout);
  // 3. they follow their slots, the theme and the time cursor
  followSlotsAndTheme(dash);
  // 4. frames from the kernel
  receiveFrames(dash);

  return () => {
    dash.closed = true;
    if (dash.staleTimer !== null) clearTimeout(dash.staleTimer);
    if (dash.ackTimer !== null) clearTimeout(dash.ackTimer);
    for (const off of dash.cleanups) off();
    for (const fig of Object.values(dash.figs)) PlotlyAdapter.purge(fig.div);
  };
}

export default { render };
