// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The differential flame graph as an SVG document, laid out as the
// profile's graph is (flamegraph_svg.cpp) and driven by the same script:
// its two "metrics" are the two profiles, so the switch redraws the widths
// by BEFORE's values, where stacks that vanished in AFTER show.
#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "format/flame_diff.hpp"
#include "format/flame_layout.hpp"
#include "format/flame_palette.hpp"
#include "format/flamegraph_script.hpp"
#include "format/format.hpp"
#include "format/xml_text.hpp"

namespace waketrace {
namespace {

using format_internal::DiffNode;
using format_internal::grouped;
using format_internal::kFlameBottom;
using format_internal::kFlameCharWidth;
using format_internal::kFlameFrameHeight;
using format_internal::kFlameMinWidth;
using format_internal::kFlamePad;
using format_internal::kFlameTop;
using format_internal::xml_escaped;

// The two sides, in the order of the switch: AFTER first, the default.
enum Side : size_t { kAfter = 0, kBefore = 1 };
constexpr std::array<std::string_view, 2> kAttribute = {"after", "before"};

uint64_t value_of(const DiffNode& node, size_t side) { return side == kAfter ? node.after : node.before; }

// Folded values are microseconds; the script reads nanoseconds (held at
// UINT64_MAX, like the sums, for values no real profile has).
uint64_t ns(uint64_t us) { return us > UINT64_MAX / 1000 ? UINT64_MAX : us * 1000; }

std::string us_text(uint64_t us) { return grouped(us) + " \u00b5s"; }

std::string signed_us(int64_t delta) {
    const std::string magnitude = us_text(uint64_t(delta < 0 ? -delta : delta));
    return delta > 0 ? "+" + magnitude : delta < 0 ? "\u2212" + magnitude : magnitude;
}

// The change against BEFORE: "+12.5%", "new" when BEFORE had none.
std::string change_share(uint64_t before, uint64_t after) {
    if (before == 0)
        return after == 0 ? "0%" : "new";
    const double percent = 100.0 * (double(after) - double(before)) / double(before);
    return fmt::format("{:+.1f}%", percent);
}

class DiffSvg {
public:
    DiffSvg(const std::vector<FoldedStack>& before, const std::vector<FoldedStack>& after,
            const DiffGraphOptions& options)
        : options_(options),
          tree_(format_internal::build_diff_tree(before, after)),
          largest_(format_internal::largest_change(tree_)),
          vanished_(format_internal::vanished_stacks(before, after)),
          shown_(options.widths_by_before ? kBefore : kAfter),
          width_(options.width > 4 * kFlamePad ? options.width : 1200),
          inner_(width_ - 2 * kFlamePad) {
        height_ = kFlameTop + double(deepest_kept(tree_, 0) + 1) * kFlameFrameHeight + kFlameBottom;
    }

    std::string write() {
        open_document();
        title_lines();
        side_switch();
        legend();
        out_ += "<g class=\"frames\">\n";
        if (!tree_.children.empty())
            frame(tree_, 0, {0, 0});
        out_ += "</g>\n";
        footer();
        return std::move(out_);
    }

private:
    bool kept(const DiffNode& node) const {
        for (size_t side : {kAfter, kBefore}) {
            const uint64_t whole = value_of(tree_, side);
            if (whole > 0 && double(value_of(node, side)) * inner_ / double(whole) >= kFlameMinWidth)
                return true;
        }
        return false;
    }

    uint32_t deepest_kept(const DiffNode& node, uint32_t depth) const {
        uint32_t deepest = depth;
        for (const DiffNode& child : node.children)
            if (kept(child))
                deepest = std::max(deepest, deepest_kept(child, depth + 1));
        return deepest;
    }

    template <typename... Args>
    void put(fmt::format_string<Args...> format, Args&&... args) {
        fmt::format_to(std::back_inserter(out_), format, std::forward<Args>(args)...);
    }

    const std::string& name_of(size_t side) const {
        return side == kAfter ? options_.after_name : options_.before_name;
    }

    void open_document() {
        put("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
        put("<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
            "class=\"waketrace-flamegraph waketrace-diff\" width=\"{0}\" height=\"{1}\" "
            "viewBox=\"0 0 {0} {1}\" data-metric=\"{2}\" data-pad=\"{3}\" data-char-width=\"{4:.3f}\" "
            "data-highlight=\"{5}\" data-largest-change=\"{6}\">\n",
            width_, height_, kAttribute[shown_], kFlamePad, kFlameCharWidth,
            format_internal::search_highlight, largest_);
        put("<style><![CDATA[{}]]></style>\n", format_internal::flamegraph_style());
        put("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"rgb(250,250,245)\"/>\n", width_,
            height_);
    }

    void title_lines() {
        const std::string title = options_.title.empty()
                                      ? fmt::format("Off-CPU time, differential: {} \u2192 {}",
                                                    options_.before_name, options_.after_name)
                                      : options_.title;
        put("<text class=\"title\" x=\"{}\" y=\"24\">{}</text>\n", width_ / 2, xml_escaped(title));
        put("<text class=\"subtitle\" x=\"{}\" y=\"44\">{}</text>\n", width_ / 2, xml_escaped(summary()));
        put("<text class=\"reset hide\" x=\"{}\" y=\"24\">Reset Zoom</text>\n", kFlamePad);
        put("<text class=\"search\" x=\"{}\" y=\"24\">Search</text>\n", width_ - kFlamePad);
    }

    // The totals, what the colours and widths mean, and the stacks that only
    // BEFORE has, which AFTER's widths leave out.
    std::string summary() const {
        std::string text =
            fmt::format("{} {} \u2192 {} {} ({}) \u00b7 widths by {}, red grew, blue shrank",
                        options_.before_name, us_text(tree_.before), options_.after_name,
                        us_text(tree_.after), change_share(tree_.before, tree_.after), name_of(shown_));
        if (vanished_.stacks > 0)
            text +=
                fmt::format(" \u00b7 {} {} ({}) only in {}: Width \u201c{}\u201d draws {}", vanished_.stacks,
                            vanished_.stacks == 1 ? "stack" : "stacks", us_text(vanished_.value),
                            options_.before_name, kAttribute[kBefore], vanished_.stacks == 1 ? "it" : "them");
        return text;
    }

    // "Width: after before", the buttons the script switches widths with.
    void side_switch() {
        double x = kFlamePad;
        put("<text x=\"{}\" y=\"68\">Width:</text>\n", x);
        x += 7 * kFlameCharWidth;
        for (size_t side : {kAfter, kBefore}) {
            put("<text class=\"metric{}\" data-metric=\"{}\" x=\"{:.1f}\" y=\"68\">{}</text>\n",
                side == shown_ ? " on" : "", kAttribute[side], x, kAttribute[side]);
            x += double(kAttribute[side].size() + 3) * kFlameCharWidth;
        }
    }

    void legend() {
        const std::array<std::pair<std::string_view, int64_t>, 3> entries = {
            {{"grew", 1}, {"shrank", -1}, {"unchanged", 0}}};
        double x = width_ - kFlamePad;
        put("<g class=\"legend\">\n");
        for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) {
            x -= double(entry->first.size()) * kFlameCharWidth + 22;
            // Full strength: what the largest change looks like.
            put("<rect x=\"{:.1f}\" y=\"58\" width=\"12\" height=\"12\" rx=\"2\" ry=\"2\" fill=\"{}\"/>"
                "<text x=\"{:.1f}\" y=\"68\">{}</text>\n",
                x, css_colour(format_internal::diff_colour(entry->second, 1)), x + 16, entry->first);
        }
        put("</g>\n");
    }

    std::string tooltip(const DiffNode& node) const {
        return fmt::format("{}\n{} {}, {} {}\nchange {} ({})", node.name, options_.before_name,
                           us_text(node.before), options_.after_name, us_text(node.after),
                           signed_us(node.delta()), change_share(node.before, node.after));
    }

    // One frame and, after it, its subtree; `starts` is where the frame
    // begins on either side (microseconds from the left edge).
    void frame(const DiffNode& node, uint32_t depth, std::array<uint64_t, 2> starts) {
        put("<g data-depth=\"{}\" data-before-us=\"{}\" data-after-us=\"{}\" data-delta-us=\"{}\"", depth,
            node.before, node.after, node.delta());
        for (size_t side : {kAfter, kBefore})
            put(" data-{}=\"{} {}\"", kAttribute[side], ns(starts[side]), ns(value_of(node, side)));
        const uint64_t whole = value_of(tree_, shown_);
        const uint64_t value = value_of(node, shown_);
        const double width = whole > 0 ? double(value) * inner_ / double(whole) : 0;
        const double x = whole > 0 ? kFlamePad + double(starts[shown_]) * inner_ / double(whole) : kFlamePad;
        const bool visible = value > 0 && width >= kFlameMinWidth;
        const double y = height_ - kFlameBottom - double(depth + 1) * kFlameFrameHeight;
        put("{}><title>{}</title>", visible ? "" : " class=\"hide\"", xml_escaped(tooltip(node)));
        put("<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\" rx=\"2\" ry=\"2\" "
            "fill=\"{}\"/>",
            x, y, width, kFlameFrameHeight - 1,
            css_colour(format_internal::diff_colour(node.delta(), largest_)));
        put("<text x=\"{:.2f}\" y=\"{:.1f}\">{}</text></g>\n", x + 3, y + 11.5,
            xml_escaped(visible ? format_internal::fitted_label(node.name, width) : std::string()));

        for (const DiffNode& child : node.children) {
            if (kept(child))
                frame(child, depth + 1, starts);
            starts[kAfter] = format_internal::saturating_add(starts[kAfter], child.after);
            starts[kBefore] = format_internal::saturating_add(starts[kBefore], child.before);
        }
    }

    void footer() {
        out_ += format_internal::flame_footer(width_, height_,
                                              tree_.children.empty() ? "Neither profile holds a stack." : "");
    }

    const DiffGraphOptions& options_;
    DiffNode tree_;
    uint64_t largest_;
    format_internal::VanishedStacks vanished_;
    size_t shown_;
    double width_;
    double inner_;
    double height_ = 0;
    std::string out_;
};

}  // namespace

std::string format_diff_flamegraph_svg(const std::vector<FoldedStack>& before,
                                       const std::vector<FoldedStack>& after,
                                       const DiffGraphOptions& options) {
    return DiffSvg(before, after, options).write();
}

}  // namespace waketrace
