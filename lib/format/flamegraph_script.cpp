// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The flame graph's behaviour in a browser. The model is in the attributes:
// the root <svg> holds data-metric (the widths shown first), data-pad (the
// margin left and right) and data-char-width (the average advance of a
// character, for fitting labels); each frame <g> under .frames holds
// data-depth, data-count and, per metric, "start value" in nanoseconds
// (data-total, data-blocked, data-runqueue; a differential graph's are
// data-after and data-before, without data-count), the root frame first. Every
// action sets the state (metric, zoomed frame, search pattern) and redraws
// all frames from it, so no action has to undo another.
#include "format/flamegraph_script.hpp"

namespace waketrace::format_internal {

std::string_view flamegraph_style() {
    return R"js(
text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: 12px; fill: rgb(0,0,0); }
.title { font-size: 17px; text-anchor: middle; }
.subtitle { text-anchor: middle; fill: rgb(90,90,90); }
.search, .matched { text-anchor: end; }
.reset, .search, .metric { cursor: pointer; }
.search { opacity: 0.35; }
.search:hover, .search.on { opacity: 1; }
.metric { fill: rgb(70,70,70); }
.metric.on { font-weight: bold; text-decoration: underline; fill: rgb(0,0,0); }
.frames > g { cursor: pointer; }
.frames > g:hover > rect { stroke: rgb(0,0,0); stroke-width: 0.5; }
.frames text { pointer-events: none; }
.parent { opacity: 0.6; }
.hide { display: none; }
)js";
}

std::string_view flamegraph_script() {
    return R"js(
(function () {
  "use strict";
  var script = document.currentScript;
  var svg = script && script.closest ? script.closest("svg") : null;
  if (!svg) svg = document.documentElement;
  var pad = Number(svg.getAttribute("data-pad"));
  var charWidth = Number(svg.getAttribute("data-char-width"));
  var inner = Number(svg.getAttribute("width")) - 2 * pad;
  var highlight = svg.getAttribute("data-highlight");
  var frames = Array.prototype.slice.call(svg.querySelectorAll(".frames > g"));
  var root = frames.length ? frames[0] : null;
  var details = svg.querySelector(".details");
  var matched = svg.querySelector(".matched");
  var reset = svg.querySelector(".reset");
  var searchButton = svg.querySelector(".search");
  var state = { metric: svg.getAttribute("data-metric"), zoomed: null, pattern: null };

  function span(frame) {
    var parts = frame.getAttribute("data-" + state.metric).split(" ");
    return { start: Number(parts[0]), value: Number(parts[1]) };
  }
  function depthOf(frame) { return Number(frame.getAttribute("data-depth")); }
  function nameOf(frame) { return frame.querySelector("title").textContent.split("\n")[0]; }

  // As many characters as fit, "..." style but with two dots, or nothing.
  function label(name, width) {
    var fits = Math.floor((width - 6) / charWidth);
    if (fits < 3) return "";
    var chars = Array.from(name);
    return chars.length <= fits ? name : chars.slice(0, fits - 2).join("") + "..";
  }
  function grouped(number) {
    var digits = String(number), out = "";
    for (var i = 0; i < digits.length; ++i) {
      if (i > 0 && (digits.length - i) % 3 === 0) out += ",";
      out += digits[i];
    }
    return out;
  }
  function share(part, whole) {
    if (whole <= 0) return "-";
    var percent = 100 * part / whole;
    return (percent === 100 ? "100" : percent.toFixed(2)) + "%";
  }
  function toggle(element, name, on) { element.classList.toggle(name, on); }

  function place(frame, x, width) {
    var rect = frame.querySelector("rect");
    var text = frame.querySelector("text");
    rect.setAttribute("x", x.toFixed(2));
    rect.setAttribute("width", width.toFixed(2));
    text.setAttribute("x", (x + 3).toFixed(2));
    text.textContent = label(nameOf(frame), width);
  }
  function paint(frame, found) {
    var rect = frame.querySelector("rect");
    if (!rect.hasAttribute("data-fill")) rect.setAttribute("data-fill", rect.getAttribute("fill"));
    rect.setAttribute("fill", found ? highlight : rect.getAttribute("data-fill"));
  }

  // The share of the view the matching frames cover, each stretch of time
  // counted once however many matching frames are stacked on it.
  function report(hits, view) {
    toggle(searchButton, "on", state.pattern !== null);
    if (state.pattern === null) {
      matched.textContent = " ";
      searchButton.textContent = "Search";
      return;
    }
    hits.sort(function (a, b) { return a[0] - b[0]; });
    var covered = 0, reach = -Infinity;
    hits.forEach(function (hit) {
      if (hit[1] > reach) {
        covered += hit[1] - Math.max(hit[0], reach);
        reach = hit[1];
      }
    });
    var percent = view.value > 0 ? 100 * covered / view.value : 0;
    matched.textContent = "Matched: " + (percent === 100 ? "100" : percent.toFixed(1)) + "%";
    searchButton.textContent = "Reset Search";
  }

  function render() {
    if (!root) return;
    if (state.zoomed && span(state.zoomed).value <= 0) state.zoomed = null;
    var view = span(state.zoomed || root);
    var depth = state.zoomed ? depthOf(state.zoomed) : 0;
    var end = view.start + view.value;
    var hits = [];
    frames.forEach(function (frame) {
      var own = span(frame);
      var ancestor = depthOf(frame) < depth && own.start <= view.start && own.start + own.value >= end;
      var inside = depthOf(frame) >= depth && own.start >= view.start && own.start + own.value <= end;
      var width = ancestor ? inner : view.value > 0 ? own.value / view.value * inner : 0;
      var visible = own.value > 0 && (ancestor || inside) && width >= 0.1;
      var found = visible && state.pattern !== null && state.pattern(nameOf(frame));
      toggle(frame, "hide", !visible);
      toggle(frame, "parent", visible && ancestor);
      paint(frame, found);
      if (!visible) return;
      place(frame, ancestor ? pad : pad + (own.start - view.start) / view.value * inner, width);
      if (found) hits.push(ancestor ? [view.start, end] : [own.start, own.start + own.value]);
    });
    report(hits, view);
    toggle(reset, "hide", state.zoomed === null);
    Array.prototype.forEach.call(svg.querySelectorAll(".metric"), function (button) {
      toggle(button, "on", button.getAttribute("data-metric") === state.metric);
    });
  }

  // A regular expression, or, when the term is not one, the plain text.
  function matcher(term) {
    try {
      var expression = new RegExp(term);
      return function (name) { return expression.test(name); };
    } catch (error) {
      return function (name) { return name.indexOf(term) >= 0; };
    }
  }
  function search() {
    if (state.pattern !== null) {
      state.pattern = null;
    } else {
      var term = window.prompt("Search frames for (a regular expression):", "");
      if (!term) return;
      state.pattern = matcher(term);
    }
    render();
  }
  // A differential graph's frames have no count: its files hold none.
  function describe(frame) {
    var own = span(frame), counted = frame.hasAttribute("data-count");
    var count = Number(frame.getAttribute("data-count"));
    var periods = counted ? grouped(count) + (count === 1 ? " period, " : " periods, ") : "";
    return nameOf(frame) + " (" + grouped(Math.round(own.value / 1000)) + " \u00b5s, " + periods +
        share(own.value, span(root).value) + ")";
  }

  svg.addEventListener("click", function (event) {
    var target = event.target;
    var frame = target.closest(".frames > g");
    var button = target.closest(".metric");
    if (frame) {
      state.zoomed = frame === root ? null : frame;
    } else if (target.closest(".reset")) {
      state.zoomed = null;
    } else if (target.closest(".search")) {
      search();
      return;
    } else if (button) {
      state.metric = button.getAttribute("data-metric");
    } else {
      return;
    }
    render();
  });
  svg.addEventListener("mouseover", function (event) {
    var frame = event.target.closest(".frames > g");
    if (frame) details.textContent = describe(frame);
  });
  svg.addEventListener("mouseout", function (event) {
    if (event.target.closest(".frames > g")) details.textContent = " ";
  });
  // Ctrl-F and F3 search, but only where the graph is the whole page: in a
  // notebook they belong to the page.
  if (svg === document.documentElement) {
    window.addEventListener("keydown", function (event) {
      if ((event.ctrlKey && event.key === "f") || event.key === "F3") {
        event.preventDefault();
        search();
      }
    });
  }
  render();
})();
)js";
}

}  // namespace waketrace::format_internal
