// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The flame graph as an SVG document: the merged tree of flame_tree.hpp laid
// out bottom-up (the root at the bottom, as flamegraph.pl draws), every
// frame a <g> with its tooltip, rectangle and label, drawn for the first
// metric and carrying its place under all three for the script to redraw.
#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "format/flame_layout.hpp"
#include "format/flame_palette.hpp"
#include "format/flame_tree.hpp"
#include "format/flamegraph_script.hpp"
#include "format/format.hpp"
#include "format/xml_text.hpp"

namespace waketrace {
namespace {

using format_internal::FlameNode;
using format_internal::FlameRole;
using format_internal::FlameStep;
using format_internal::FlameValues;
using format_internal::xml_escaped;

using format_internal::fitted_label;
using format_internal::grouped;
using format_internal::micros;
constexpr double kPad = format_internal::kFlamePad;
constexpr double kFrameHeight = format_internal::kFlameFrameHeight;
constexpr double kCharWidth = format_internal::kFlameCharWidth;
constexpr double kTop = format_internal::kFlameTop;
constexpr double kBottom = format_internal::kFlameBottom;
constexpr double kMinWidth = format_internal::kFlameMinWidth;

constexpr std::array<FlameMetric, 3> kMetrics = {FlameMetric::total, FlameMetric::blocked,
                                                 FlameMetric::runqueue};

size_t index_of(FlameMetric metric) {
    return size_t(std::find(kMetrics.begin(), kMetrics.end(), metric) - kMetrics.begin());
}

// The data-* attribute of a metric, and what the switch calls it.
std::string_view attribute_of(FlameMetric metric) {
    switch (metric) {
    case FlameMetric::total: return "total";
    case FlameMetric::blocked: return "blocked";
    case FlameMetric::runqueue: return "runqueue";
    }
    return "total";
}

std::string_view label_of(FlameMetric metric) {
    switch (metric) {
    case FlameMetric::total: return "off-CPU";
    case FlameMetric::blocked: return "blocked";
    case FlameMetric::runqueue: return "runqueue";
    }
    return "off-CPU";
}

std::string share(uint64_t part, uint64_t whole) {
    if (whole == 0)
        return "-";
    return part == whole ? "100%" : fmt::format("{:.2f}%", 100.0 * double(part) / double(whole));
}

std::string periods(uint64_t count) { return grouped(count) + (count == 1 ? " period" : " periods"); }

// What a frame is, in words, for its tooltip.
std::string role_text(const FlameStep& step) {
    const uint32_t level = step.level;
    switch (step.role) {
    case FlameRole::all: return "all chains";
    case FlameRole::target: return "target: the thread that was off CPU, where it waited";
    case FlameRole::waker:
        if (step.waiting)
            return fmt::format("waker {} waiting: where it blocked until waker {} woke it", level - 1, level);
        return level == 1 ? "waker 1: woke the target"
                          : fmt::format("waker {}: woke waker {}", level, level - 1);
    case FlameRole::interrupt:
        return level == 1 ? "waker 1: an interrupt woke the target"
                          : fmt::format("waker {}: an interrupt woke waker {}", level, level - 1);
    case FlameRole::separator: return "--: the part below waited, the part above woke it";
    case FlameRole::delimiter: return "-: between user and kernel frames";
    case FlameRole::chain_end: return "why the chain shows no deeper waker";
    }
    return {};
}

class FlameSvg {
public:
    FlameSvg(const Profile& profile, const FlameGraphOptions& options)
        : profile_(profile),
          options_(options),
          tree_(format_internal::build_flame_tree(profile, options.format)),
          width_(options.width > 4 * kPad ? options.width : 1200),
          inner_(width_ - 2 * kPad) {
        max_depth_ = deepest_kept(tree_, 0);
        height_ = kTop + double(max_depth_ + 1) * kFrameHeight + kBottom;
    }

    std::string write() {
        open_document();
        title_lines();
        metric_switch();
        legend();
        out_ += "<g class=\"frames\">\n";
        if (!profile_.chains.empty())
            frame(tree_, 0, {});
        out_ += "</g>\n";
        footer();
        return std::move(out_);
    }

private:
    // Wide enough to draw under some metric; its subtree can only be narrower.
    bool kept(const FlameValues& values) const {
        for (const FlameMetric metric : kMetrics) {
            const uint64_t whole = tree_.values.of(metric);
            if (whole > 0 && double(values.of(metric)) * inner_ / double(whole) >= kMinWidth)
                return true;
        }
        return false;
    }

    uint32_t deepest_kept(const FlameNode& node, uint32_t depth) const {
        uint32_t deepest = depth;
        for (const FlameNode& child : node.children)
            if (kept(child.values))
                deepest = std::max(deepest, deepest_kept(child, depth + 1));
        return deepest;
    }

    double level_y(uint32_t depth) const { return height_ - kBottom - double(depth + 1) * kFrameHeight; }

    template <typename... Args>
    void put(fmt::format_string<Args...> format, Args&&... args) {
        fmt::format_to(std::back_inserter(out_), format, std::forward<Args>(args)...);
    }

    void open_document() {
        put("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
        put("<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" class=\"waketrace-flamegraph\" "
            "width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" data-metric=\"{2}\" data-pad=\"{3}\" "
            "data-char-width=\"{4:.3f}\" data-highlight=\"{5}\">\n",
            width_, height_, attribute_of(options_.metric), kPad, kCharWidth,
            format_internal::search_highlight);
        put("<style><![CDATA[{}]]></style>\n", format_internal::flamegraph_style());
        put("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"rgb(250,250,245)\"/>\n", width_,
            height_);
    }

    void title_lines() {
        const std::string title = options_.title.empty() ? "Off-CPU time by wake chain" : options_.title;
        put("<text class=\"title\" x=\"{}\" y=\"24\">{}</text>\n", width_ / 2, xml_escaped(title));
        put("<text class=\"subtitle\" x=\"{}\" y=\"44\">{}</text>\n", width_ / 2, xml_escaped(summary()));
        put("<text class=\"reset hide\" x=\"{}\" y=\"24\">Reset Zoom</text>\n", kPad);
        put("<text class=\"search\" x=\"{}\" y=\"24\">Search</text>\n", width_ - kPad);
    }

    std::string summary() const {
        const FlameValues& all = tree_.values;
        std::string text = fmt::format("{} chains \u00b7 {} off CPU ({} blocked, {} runqueue) in {}",
                                       grouped(profile_.chains.size()), micros(all.total_ns),
                                       micros(all.blocked_ns), micros(all.runqueue_ns), periods(all.count));
        if (profile_.stack_sample_percent < 100)
            text += fmt::format(" \u00b7 stacks of {}% of periods, times scaled up",
                                profile_.stack_sample_percent);
        if (profile_.losses.total() > 0)
            text += fmt::format(" \u00b7 {} events lost", grouped(profile_.losses.total()));
        return text;
    }

    // "Width: off-CPU blocked runqueue", each a button; metrics with no time
    // at all have none.
    void metric_switch() {
        double x = kPad;
        put("<text x=\"{}\" y=\"68\">Width:</text>\n", x);
        x += 7 * kCharWidth;
        for (const FlameMetric metric : kMetrics) {
            if (metric != options_.metric && tree_.values.of(metric) == 0)
                continue;
            put("<text class=\"metric{}\" data-metric=\"{}\" x=\"{:.1f}\" y=\"68\">{}</text>\n",
                metric == options_.metric ? " on" : "", attribute_of(metric), x, label_of(metric));
            x += double(label_of(metric).size() + 3) * kCharWidth;
        }
    }

    // A swatch per part that appears, right-aligned on the switch's line.
    void legend() {
        std::vector<std::pair<std::string, FlameStep>> entries;
        uint32_t deepest_waker = 0;
        bool interrupt = false;
        collect_parts(tree_, deepest_waker, interrupt);
        entries.push_back({"target", step_of(FlameRole::target, 0)});
        for (uint32_t level = 1; level <= deepest_waker; ++level)
            entries.push_back({deepest_waker == 1 ? std::string("waker") : fmt::format("waker {}", level),
                               step_of(FlameRole::waker, level)});
        if (interrupt)
            entries.push_back({"interrupt", step_of(FlameRole::interrupt, 1)});
        double x = width_ - kPad;
        put("<g class=\"legend\">\n");
        for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) {
            x -= double(entry->first.size()) * kCharWidth + 22;
            put("<rect x=\"{:.1f}\" y=\"58\" width=\"12\" height=\"12\" rx=\"2\" ry=\"2\" fill=\"{}\"/>"
                "<text x=\"{:.1f}\" y=\"68\">{}</text>\n",
                x, css_colour(frame_colour(entry->second)), x + 16, entry->first);
        }
        put("</g>\n");
    }

    static FlameStep step_of(FlameRole role, uint32_t level) {
        FlameStep step;
        step.role = role;
        step.level = level;
        return step;
    }

    static void collect_parts(const FlameNode& node, uint32_t& deepest_waker, bool& interrupt) {
        if (node.step.role == FlameRole::waker || node.step.role == FlameRole::interrupt)
            deepest_waker = std::max(deepest_waker, node.step.level);
        interrupt = interrupt || node.step.role == FlameRole::interrupt;
        for (const FlameNode& child : node.children)
            collect_parts(child, deepest_waker, interrupt);
    }

    std::string tooltip(const FlameNode& node) const {
        const FlameValues& own = node.values;
        const FlameValues& all = tree_.values;
        const std::string what = node.step.role == FlameRole::all
                                     ? fmt::format("all {} chains", grouped(profile_.chains.size()))
                                     : role_text(node.step);
        return fmt::format("{}\n{}\noff-CPU {} ({}), blocked {} ({}), runqueue {} ({})\n{}", node.step.name,
                           what, micros(own.total_ns), share(own.total_ns, all.total_ns),
                           micros(own.blocked_ns), share(own.blocked_ns, all.blocked_ns),
                           micros(own.runqueue_ns), share(own.runqueue_ns, all.runqueue_ns),
                           periods(own.count));
    }

    // One frame and, after it, its subtree; `starts` is where the frame
    // begins under each metric (nanoseconds from the left edge).
    void frame(const FlameNode& node, uint32_t depth, std::array<uint64_t, 3> starts) {
        put("<g data-depth=\"{}\" data-count=\"{}\"", depth, node.values.count);
        for (size_t m = 0; m < kMetrics.size(); ++m)
            put(" data-{}=\"{} {}\"", attribute_of(kMetrics[m]), starts[m], node.values.of(kMetrics[m]));
        const uint64_t whole = tree_.values.of(options_.metric);
        const uint64_t value = node.values.of(options_.metric);
        const size_t shown = index_of(options_.metric);
        const double width = whole > 0 ? double(value) * inner_ / double(whole) : 0;
        const double x = whole > 0 ? kPad + double(starts[shown]) * inner_ / double(whole) : kPad;
        const bool visible = value > 0 && width >= kMinWidth;
        const double y = level_y(depth);
        put("{}><title>{}</title>", visible ? "" : " class=\"hide\"", xml_escaped(tooltip(node)));
        put("<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\" rx=\"2\" ry=\"2\" "
            "fill=\"{}\"/>",
            x, y, width, kFrameHeight - 1, css_colour(frame_colour(node.step)));
        put("<text x=\"{:.2f}\" y=\"{:.1f}\">{}</text></g>\n", x + 3, y + 11.5,
            xml_escaped(visible ? fitted_label(node.step.name, width) : std::string()));

        for (const FlameNode& child : node.children) {
            if (kept(child.values))
                frame(child, depth + 1, starts);
            for (size_t m = 0; m < kMetrics.size(); ++m)
                starts[m] += child.values.of(kMetrics[m]);
        }
    }

    void footer() {
        out_ += format_internal::flame_footer(width_, height_,
                                              profile_.chains.empty() ? "No off-CPU time was recorded." : "");
    }

    const Profile& profile_;
    const FlameGraphOptions& options_;
    FlameNode tree_;
    double width_;
    double inner_;
    uint32_t max_depth_ = 0;
    double height_ = 0;
    std::string out_;
};

}  // namespace

std::string format_flamegraph_svg(const Profile& profile, const FlameGraphOptions& options) {
    return FlameSvg(profile, options).write();
}

}  // namespace waketrace
