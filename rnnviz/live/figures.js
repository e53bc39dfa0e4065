// rnnviz dashboard, part 4 of 6: the figures. Each is created once from its plotly JSON (the
// "figures" trait), laid out for its slot's width and the page's theme, redrawn in full
// when that changes, and carries the time cursor.

const SLOW_MS = 400; // figures that need a full plotly redraw get one at most this often
// A new colour range alone is painted at once (the cells in the new colours); the colour
// bar's labels follow with a full redraw within BAR_MS, so that the ranges of a fast-changing
// start of training (a gradient heatmap growing 0.002 -> 0.005 -> 0.01 in half a second)
// cost one redraw, not three.
const BAR_MS = 1000;

const clone = (v) => JSON.parse(JSON.stringify(v));
const isDark = () => document.body.dataset.jpThemeLight === "false";
const slotWidth = (div) => Math.floor(div.getBoundingClientRect().width);
// plotly places a subtitle under its title's drawn box: drawn while hidden (JupyterLab
// detaches off-screen cells), the box is empty and the subtitle lands on top of the title,
// so such a figure is drawn again when it is shown
const hiddenSubtitle = (fig) => !!(fig.layout && fig.layout.title && fig.layout.title.subtitle
                                   && fig.layout.title.subtitle.text) && slotWidth(fig.div) <= 0;

// The layout of a figure for its slot: plotly's JSON, the narrow variant (stacked panels,
// wrapped titles) below its width, the slot's width, and the theme's text colour read now.
function layoutFor(fig, theme) {
  const spec = fig.spec, narrow = fig.narrow ? spec.narrow : null;
  const layout = clone(spec.layout);
  if (narrow) {
    for (const [k, v] of Object.entries(narrow.layout)) {
      layout[k] = Object.assign({}, layout[k], v);
    }
    layout.annotations = clone(narrow.annotations);
  }
  spec.data.forEach((tr, i) => { // colour bars move with their stacked panels
    if (!tr.colorbar || !fig.data[i]) return;
    fig.data[i].colorbar = Object.assign({}, tr.colorbar,
                                         narrow ? narrow.colorbars[String(i)] || {} : {});
  });
  layout.height = narrow ? narrow.height : spec.layout.height || 400;
  if (fig.width > 0) { layout.width = fig.width; layout.autosize = false; }
  fig.dark = isDark();
  if (theme === "auto") {
    const fg = fig.dark ? "#e8e8e8" : "#222222";
    layout.font = Object.assign({}, layout.font, { color: fg });
  }
  fig.baseShapes = (layout.shapes || []).slice();
  fig.div.style.height = `${layout.height}px`; // fixed: redraws never move the page
  return layout;
}

// Fit a figure to a slot of width w (px): the narrow variant below its threshold.
function fitTo(dash, fig, w) {
  fig.width = w;
  fig.narrow = !!(fig.spec.narrow && w > 0 && w < fig.spec.narrow.below);
  fig.layout = layoutFor(fig, dash.model.get("theme"));
}

// One <div> per figure in the grid, in figure_order; name -> figure state.
function createFigures(dash) {
  const specs = dash.model.get("figures");
  const figs = {};
  for (const name of dash.model.get("figure_order")) {
    const spec = specs[name];
    const div = h("div", { className: `rnnviz-fig rnnviz-${spec.grid}`, dataset: { fig: name } });
    dash.ui.grid.append(div);
    figs[name] = {
      div, spec, data: clone(spec.data), layout: null, width: 0, narrow: false,
      baseShapes: [],
      lastFull: -Infinity, drawnOnce: false, stale: false, dueAt: Infinity, overlays: null,
      images: null,
    };
  }
  // after all are in the grid: their slots' widths
  for (const fig of Object.values(figs)) fitTo(dash, fig, slotWidth(fig.div));
  return figs;
}

function cursorShapes(fig, t) {
  return fig.spec.time_axes.map(([xref, yref]) => ({
    type: "line", xref, yref: `${yref} domain`, x0: t, x1: t, y0: 0, y1: 1,
    line: { color: CURSOR, width: 3 }, opacity: CURSOR_OPACITY, layer: "above",
  }));
}

function applyCursor(fig, t) {
  fig.layout.shapes = fig.baseShapes.concat(cursorShapes(fig, t));
  const hl = fig.spec.highlight;
  if (hl && hl.trace >= 0 && fig.data[hl.trace]) {
    const x0 = t - hl.width / 2 - 0.08, x1 = t + hl.width / 2 + 0.08;
    const y0 = hl.y_low - 0.1, y1 = hl.y_top + 0.1;
    fig.data[hl.trace].x = [x0, x1, x1, x0, x0];
    fig.data[hl.trace].y = [y0, y0, y1, y1, y0];
  }
}

// The first drawing of every figure.
async function drawFirst(dash) {
  const t = dash.model.get("t");
  await Promise.all(Object.values(dash.figs).map(async (fig) => {
    applyCursor(fig, t);
    growRanges(fig);
    await PlotlyAdapter.newPlot(fig.div, fig.data, fig.layout);
    PlotlyAdapter.onRedraw(fig.div, () => { // after any redraw, resizes too
      fig.lines = fig.images = null;
      dropOverlays(fig);
    });
    fig.drawnOnce = true;
    fig.lastFull = performance.now();
    fig.redrawWhenShown = hiddenSubtitle(fig);
  }));
}

// A full plotly redraw of one figure (its overlays are dropped: plotly shows the data).
async function fullDraw(dash, fig, t) {
  const stats = dash.stats;
  fig.stale = false;
  fig.dueAt = Infinity;
  fig.lastFull = performance.now();
  applyCursor(fig, t);
  growRanges(fig);
  stats.full += 1;
  const name = fig.div.dataset.fig;
  stats.byFig[name] = (stats.byFig[name] || 0) + 1;
  const start = performance.now();
  fig.layout.datarevision = ++dash.revision;
  await PlotlyAdapter.react(fig.div, fig.data, fig.layout);
  stats.fullMs += performance.now() - start;
  fig.drawnOnce = true;
  fig.redrawWhenShown = hiddenSubtitle(fig);
  fig.lines = fig.images = null; // plotly made new <path> and <image> elements
  dropOverlays(fig);
}

// Figures that owe a full redraw (fig.stale) get it at fig.dueAt: SLOW_MS after their last
// one, or BAR_MS after a new colour range.
function redrawStaleLater(dash) {
  if (dash.staleTimer !== null || dash.closed) return;
  const stale = Object.values(dash.figs).filter((f) => f.stale);
  if (!stale.length) return;
  const wait = Math.max(0, Math.min(...stale.map((f) => f.dueAt)) - performance.now());
  dash.staleTimer = setTimeout(async () => {
    dash.staleTimer = null;
    if (dash.closed) return;
    const t = dash.model.get("t"), now = performance.now();
    await Promise.all(Object.values(dash.figs).filter((f) => f.stale && f.dueAt <= now + 1)
      .map((f) => fullDraw(dash, f, t)));
    redrawStaleLater(dash); // those due later
  }, wait);
}

// Every figure fills its slot: laid out again whenever the slot's width changes (the output
// first shown after Run All built it off-screen, a sidebar toggled, a resize or zoom) and
// whenever JupyterLab's theme changes. After plotly's redraw the overlays are dropped
// (onRedraw) and the next frame paints new ones on plotly's new geometry. The time cursor
// redraws the figures that have a time axis.
function followSlotsAndTheme(dash) {
  let queued = false;
  let retries = 0;
  const fitAll = async () => {
    queued = false;
    if (dash.closed) return;
    const t = dash.model.get("t");
    const todo = [];
    let missed = false;
    for (const fig of Object.values(dash.figs)) {
      const w = slotWidth(fig.div);
      // hidden (JupyterLab detaches off-screen cells: done when it is shown), or unchanged
      if (w <= 0 && fig.dark !== isDark()) missed = true;
      if (w <= 0 || (Math.abs(w - fig.width) < 1 && fig.dark === isDark()
                     && !fig.redrawWhenShown)) continue;
      fitTo(dash, fig, w);
      todo.push(fig);
    }
    const root = dash.ui.root;
    root.dataset.fits = String(Number(root.dataset.fits || 0) + (todo.length ? 1 : 0));
    // JupyterLab hides everything for a moment while it switches themes (too briefly for the
    // observers to notice it come back): look again a little later, for a few seconds
    retries = missed ? retries + 1 : 0;
    if (missed && retries <= 20) setTimeout(queueFit, 250);
    await Promise.all(todo.map((fig) => fullDraw(dash, fig, t)));
  };
  const queueFit = () => {
    if (queued || dash.closed) return;
    queued = true;
    requestAnimationFrame(() => fitAll());
  };
  const resizer = new ResizeObserver(queueFit);
  // shown again (scrolled to, a cell re-attached, JupyterLab's splash gone after a theme
  // switch): a figure that missed a change while hidden catches up
  const shown = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) queueFit();
  });
  for (const fig of Object.values(dash.figs)) { resizer.observe(fig.div); shown.observe(fig.div); }
  dash.cleanups.push(() => { resizer.disconnect(); shown.disconnect(); });
  if (dash.model.get("theme") === "auto") {
    const themer = new MutationObserver(queueFit); // figures drawn in the other theme
    themer.observe(document.body, { attributes: true,
                                    attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
    dash.cleanups.push(() => themer.disconnect());
  }
  dash.listen("change:t", () => {
    const t = dash.model.get("t");
    showT(dash.model, dash.ui, dash.readout);
    for (const fig of Object.values(dash.figs)) {
      if (fig.spec.time_axes.length || fig.spec.highlight) fullDraw(dash, fig, t);
    }
  });
}
