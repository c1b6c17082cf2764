// SPDX-License-Identifier: LGPL-2.1-or-later
// format_chain_table_html: the notebook's table of top chains.
#include <catch2/catch.hpp>

#include <regex>

#include "format/format.hpp"

#include "svg_frames.hpp"

using namespace waketrace;
using namespace waketrace::test;

namespace {

struct Row {
    std::vector<std::string> cells;
};

std::vector<Row> body_rows(const std::string& html) {
    static const std::regex row_pattern("<tr>(<td[^>]*>[^<]*</td>)+</tr>");
    static const std::regex cell_pattern("<td[^>]*>([^<]*)</td>");
    std::vector<Row> rows;
    for (auto it = std::sregex_iterator(html.begin(), html.end(), row_pattern); it != std::sregex_iterator();
         ++it) {
        Row row;
        const std::string text = it->str();
        for (auto cell = std::sregex_iterator(text.begin(), text.end(), cell_pattern);
             cell != std::sregex_iterator(); ++cell)
            row.cells.push_back((*cell)[1]);
        rows.push_back(row);
    }
    return rows;
}

WakeChain target_for(const std::string& comm, uint32_t tid, uint64_t total_ns) {
    WakeChain one = futex_chain();
    one.target = Task{tid, tid, comm};
    one.total_ns = total_ns;
    one.blocked_ns = total_ns / 2;
    one.runqueue_ns = total_ns - total_ns / 2;
    one.max_ns = total_ns / 4;
    one.count = 4;
    return one;
}

}  // namespace

TEST_CASE("chain table: the largest chains first, at most max_rows") {
    // Ascending, as Profile::chains is.
    const Profile profile = profile_of(
        {target_for("small", 1, 1000), target_for("middle", 2, 5000), target_for("large", 3, 14000)});
    const auto rows = body_rows(format_chain_table_html(profile, 2));
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].cells == std::vector<std::string>{"1", "large 3", "producer-41", "14.0", "7.0", "7.0",
                                                    "3.5", "4", "70.00%"});
    CHECK(rows[1].cells[1] == "middle 2");
    CHECK(rows[1].cells[8] == "25.00%");
    CHECK(body_rows(format_chain_table_html(profile, 10)).size() == 3);
}

TEST_CASE("chain table: sortable headings, raw values to sort by, and its script") {
    const std::string html = format_chain_table_html(profile_of({target_for("t", 1, 2500)}), 5);
    CHECK(html.rfind("<table class=\"waketrace-chains\">", 0) == 0);
    CHECK(html.find("<th data-numeric=\"\">total \u00b5s</th>") != std::string::npos);
    CHECK(html.find("<td data-value=\"2500\">2.5</td>") != std::string::npos);
    CHECK(html.find("<script>") != std::string::npos);
}

TEST_CASE("chain table: every waker level, interrupts by name, names escaped") {
    WakeChain deep = relay_chain(3);
    deep.target.comm = "a<b>&c";
    const auto rows = body_rows(format_chain_table_html(profile_of({deep}), 5));
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].cells[1] == "a&lt;b&gt;&amp;c 303");
    CHECK(rows[0].cells[2] == "relay-2-302 &lt;- relay-1-301 &lt;- [hardirq]");
}
