// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The top chains as an HTML table for notebooks, next to the flame graph:
// the graph shows where time went, the table ranks the pairs with numbers
// one can sort by.
#include <algorithm>
#include <iterator>
#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "format/format.hpp"
#include "format/stack_walk.hpp"
#include "format/xml_text.hpp"

namespace waketrace {
namespace {

using format_internal::xml_escaped;

// Sorts the table above it when a heading is clicked: numbers by the raw
// value each cell carries, words as text; a second click reverses.
constexpr std::string_view kSortScript = R"js(<script>
(function () {
  var table = document.currentScript && document.currentScript.previousElementSibling;
  if (!table || !table.tHead) return;
  var body = table.tBodies[0], order = { column: -1, down: false };
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, column) {
    heading.style.cursor = "pointer";
    heading.addEventListener("click", function () {
      order.down = order.column === column ? !order.down : heading.getAttribute("data-numeric") !== null;
      order.column = column;
      var numeric = heading.getAttribute("data-numeric") !== null;
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column], y = b.cells[column], result;
        if (numeric) result = Number(x.getAttribute("data-value")) - Number(y.getAttribute("data-value"));
        else result = x.textContent.localeCompare(y.textContent);
        return order.down ? -result : result;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
</script>
)js";

std::string task_text(const Task& task) {
    return fmt::format("{} {}", format_internal::task_name(task), task.tid);
}

// The waker levels, nearest first ("ping-41 <- [hardirq]"); an unseen
// waker for a chain that carries none, as the other layouts show it, except
// in an offcpu profile, which traces no wakers at all.
std::string wakers_text(const WakeChain& chain, CaptureMode mode) {
    if (mode == CaptureMode::offcpu)
        return "(not traced)";
    return chain.wakers.empty() ? waker_name(format_internal::first_waker(chain)) : waker_path(chain);
}

std::string micros_cell(uint64_t ns) {
    return fmt::format("<td data-value=\"{}\">{:.1f}</td>", ns, double(ns) / 1000.0);
}

std::string row(const WakeChain& chain, CaptureMode mode, size_t rank, uint64_t all_ns) {
    std::string out =
        fmt::format("<tr><td data-value=\"{0}\">{0}</td><td>{1}</td><td>{2}</td>", rank,
                    xml_escaped(task_text(chain.target)), xml_escaped(wakers_text(chain, mode)));
    out += micros_cell(chain.total_ns) + micros_cell(chain.blocked_ns) + micros_cell(chain.runqueue_ns) +
           micros_cell(chain.max_ns);
    out += fmt::format("<td data-value=\"{0}\">{0}</td>", chain.count);
    const double share = all_ns > 0 ? 100.0 * double(chain.total_ns) / double(all_ns) : 0;
    out += fmt::format("<td data-value=\"{0:.6f}\">{0:.2f}%</td></tr>\n", share);
    return out;
}

}  // namespace

std::string format_chain_table_html(const Profile& profile, size_t max_rows) {
    std::vector<size_t> order(profile.chains.size());
    std::iota(order.begin(), order.end(), size_t(0));
    // Largest first; equal totals keep the profile's order.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return profile.chains[a].total_ns > profile.chains[b].total_ns;
    });
    order.resize(std::min(order.size(), max_rows));
    uint64_t all_ns = 0;
    for (const WakeChain& chain : profile.chains)
        all_ns += chain.total_ns;

    std::string out = "<table class=\"waketrace-chains\">\n<thead><tr>";
    for (const std::string_view heading : {"#", "target", "wakers"})
        out += fmt::format("<th{}>{}</th>", heading == "#" ? " data-numeric=\"\"" : "", heading);
    for (const std::string_view heading :
         {"total \u00b5s", "blocked \u00b5s", "runqueue \u00b5s", "max \u00b5s", "count", "share"})
        out += fmt::format("<th data-numeric=\"\">{}</th>", heading);
    out += "</tr></thead>\n<tbody>\n";
    for (size_t i = 0; i < order.size(); ++i)
        out += row(profile.chains[order[i]], profile.mode, i + 1, all_ns);
    out += "</tbody>\n</table>\n";
    out += kSortScript;
    return out;
}

}  // namespace waketrace
