// SPDX-License-Identifier: LGPL-2.1-or-later
//
// format_pprof() on hand-built profiles, read back with protobuf's own
// parser (and zlib's gunzip): sample types and values, the order of the
// locations (target, "--", each waker level), labels, inline frames as
// lines of one location, and mappings a backend can re-symbolize from.
// (tests/tool decodes a live run's profile with Go's pprof itself.)
#include <zlib.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "builders.hpp"
#include "format/format.hpp"
#include "pprof_profile.pb.h"

namespace wt = waketrace;
using namespace waketrace::test;

namespace {

std::string gunzip(const std::string& bytes) {
    z_stream stream{};
    REQUIRE(inflateInit2(&stream, 15 + 16) == Z_OK);  // +16: gzip only
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    stream.avail_in = uInt(bytes.size());
    std::string out;
    int status = Z_OK;
    while (status == Z_OK) {
        char chunk[4096];
        stream.next_out = reinterpret_cast<Bytef*>(chunk);
        stream.avail_out = sizeof chunk;
        status = inflate(&stream, Z_NO_FLUSH);
        out.append(chunk, sizeof chunk - stream.avail_out);
    }
    inflateEnd(&stream);
    REQUIRE(status == Z_STREAM_END);
    CHECK(stream.avail_in == 0);  // one member, nothing after it
    return out;
}

// The profile and look-ups by id, as a consumer resolves them.
struct Decoded {
    wt::pprof::Profile proto;

    const std::string& text(int64_t index) const { return proto.string_table(int(index)); }

    const wt::pprof::Location& location(uint64_t id) const {
        for (const auto& location : proto.location())
            if (location.id() == id)
                return location;
        FAIL("no location " << id);
        throw;
    }
    const wt::pprof::Function& function(uint64_t id) const {
        for (const auto& function : proto.function())
            if (function.id() == id)
                return function;
        FAIL("no function " << id);
        throw;
    }
    const wt::pprof::Mapping& mapping(uint64_t id) const {
        for (const auto& mapping : proto.mapping())
            if (mapping.id() == id)
                return mapping;
        FAIL("no mapping " << id);
        throw;
    }

    // Each location of a sample as its function names, inlined ones first
    // joined by '+'; "" for a location without lines.
    std::vector<std::string> names(const wt::pprof::Sample& sample) const {
        std::vector<std::string> result;
        for (uint64_t id : sample.location_id()) {
            std::string name;
            for (const auto& line : location(id).line())
                name += (name.empty() ? "" : "+") + text(function(line.function_id()).name());
            result.push_back(name);
        }
        return result;
    }

    // String labels as key -> value, numeric ones as key -> decimal text.
    std::map<std::string, std::string> labels(const wt::pprof::Sample& sample) const {
        std::map<std::string, std::string> result;
        for (const auto& label : sample.label())
            result[text(label.key())] = label.str() != 0 ? text(label.str()) : std::to_string(label.num());
        return result;
    }
};

Decoded decode(const std::string& gzipped) {
    Decoded decoded;
    REQUIRE(gzipped.substr(0, 2) == "\x1f\x8b");
    REQUIRE(decoded.proto.ParseFromString(gunzip(gzipped)));
    REQUIRE(decoded.proto.string_table_size() > 0);
    CHECK(decoded.proto.string_table(0).empty());
    return decoded;
}

Decoded encode(const wt::Profile& profile, wt::StackKinds stacks = wt::StackKinds::both) {
    wt::PprofOptions options;
    options.stacks = stacks;
    return decode(wt::format_pprof(profile, options));
}

// A stack's frame names in the order pprof lists them (leaf first).
std::vector<std::string> names_of(const wt::Stack& stack) {
    std::vector<std::string> names;
    for (const wt::Frame& frame : stack.frames)
        names.push_back(frame.symbol);
    return names;
}

void append(std::vector<std::string>& to, const std::vector<std::string>& more) {
    to.insert(to.end(), more.begin(), more.end());
}

wt::Frame frame_in(const std::string& module, uint64_t address, uint64_t file_offset, std::string symbol) {
    wt::Frame frame;
    frame.address = address;
    frame.module = module;
    frame.file_offset = file_offset;
    frame.build_id = "0123456789abcdef";
    frame.symbol = std::move(symbol);
    return frame;
}

}  // namespace

TEST_CASE("pprof: four sample types, offcpu the default, one sample per chain with the chain's values") {
    wt::WakeChain futex = futex_chain();
    futex.blocked_ns = 1000000;
    futex.runqueue_ns = 234567;
    futex.count = 3;
    wt::Profile profile = profile_of({futex, relay_chain(1)});
    profile.duration_ns = 5000000000;
    const Decoded decoded = encode(profile);
    const auto& proto = decoded.proto;

    REQUIRE(proto.sample_type_size() == 4);
    const std::vector<std::pair<std::string, std::string>> expected_types = {{"periods", "count"},
                                                                             {"offcpu", "nanoseconds"},
                                                                             {"blocked", "nanoseconds"},
                                                                             {"runqueue", "nanoseconds"}};
    for (int i = 0; i < 4; ++i) {
        CHECK(decoded.text(proto.sample_type(i).type()) == expected_types[size_t(i)].first);
        CHECK(decoded.text(proto.sample_type(i).unit()) == expected_types[size_t(i)].second);
    }
    CHECK(decoded.text(proto.default_sample_type()) == "offcpu");
    CHECK(proto.duration_nanos() == 5000000000);

    REQUIRE(proto.sample_size() == 2);
    for (int i = 0; i < 2; ++i) {
        const wt::WakeChain& chain = profile.chains[size_t(i)];
        const auto& values = proto.sample(i).value();
        REQUIRE(values.size() == 4);
        CHECK(uint64_t(values[0]) == chain.count);
        CHECK(uint64_t(values[1]) == chain.total_ns);
        CHECK(uint64_t(values[2]) == chain.blocked_ns);
        CHECK(uint64_t(values[3]) == chain.runqueue_ns);
    }
}

TEST_CASE(
    "pprof: the target's frames leaf first, then \"--\", the waker's from the wake-up outward, its name") {
    const wt::WakeChain futex = futex_chain();
    const Decoded decoded = encode(profile_of({futex}));
    const wt::Waker& waker = futex.wakers[0];

    std::vector<std::string> expected = names_of(futex.kernel_stack);
    append(expected, names_of(futex.user_stack));
    expected.push_back("--");
    append(expected, names_of(waker.kernel_stack));
    append(expected, names_of(waker.user_stack));
    expected.push_back(waker.task.comm);
    CHECK(decoded.names(decoded.proto.sample(0)) == expected);

    const auto labels = decoded.labels(decoded.proto.sample(0));
    CHECK(labels.at("target_comm") == futex.target.comm);
    CHECK(labels.at("target_tid") == std::to_string(futex.target.tid));
    CHECK(labels.at("pid") == std::to_string(futex.target.tgid));
    CHECK(labels.at("waker_context") == "task");
    CHECK(labels.at("waker_comm") == waker.task.comm);
    CHECK(labels.at("waker_tid") == std::to_string(waker.task.tid));
    CHECK(labels.at("waker_pid") == std::to_string(waker.task.tgid));
    CHECK(labels.count("chain_end") == 0);
}

TEST_CASE("pprof: stacks left out are not there; lost ones are named as the text layouts name them") {
    wt::WakeChain futex = futex_chain();
    futex.user_stack = lost(wt::StackStatus::map_full);
    const Decoded both = encode(profile_of({futex}));
    std::vector<std::string> expected = names_of(futex.kernel_stack);
    expected.push_back("[Missed User Stack]");
    expected.push_back("--");
    append(expected, names_of(futex.wakers[0].kernel_stack));
    append(expected, names_of(futex.wakers[0].user_stack));
    expected.push_back("producer");
    CHECK(both.names(both.proto.sample(0)) == expected);

    const Decoded kernel_only = encode(profile_of({futex_chain()}), wt::StackKinds::kernel_only);
    expected = names_of(futex.kernel_stack);
    expected.push_back("--");
    append(expected, names_of(futex.wakers[0].kernel_stack));
    expected.push_back("producer");
    CHECK(kernel_only.names(kernel_only.proto.sample(0)) == expected);
}

TEST_CASE("pprof: every waker level follows its own \"--\", after the wait of the level below") {
    const wt::WakeChain relay = relay_chain(3);
    const Decoded decoded = encode(profile_of({relay}));
    std::vector<std::string> expected = names_of(relay.kernel_stack);
    append(expected, names_of(relay.user_stack));
    expected.push_back("--");
    append(expected, names_of(relay.wakers[0].kernel_stack));
    append(expected, names_of(relay.wakers[0].user_stack));
    expected.push_back("relay-2");
    for (size_t level = 1; level < 3; ++level) {
        expected.push_back("--");
        append(expected, names_of(relay.wakers[level - 1].blocked_kernel_stack));
        append(expected, names_of(relay.wakers[level - 1].blocked_user_stack));
        expected.push_back("--");
        append(expected, names_of(relay.wakers[level].kernel_stack));
        append(expected, names_of(relay.wakers[level].user_stack));
        expected.push_back(wt::waker_name(relay.wakers[level]));
    }
    CHECK(decoded.names(decoded.proto.sample(0)) == expected);
    CHECK(expected.back() == "[hardirq]");

    const auto labels = decoded.labels(decoded.proto.sample(0));
    CHECK(labels.at("waker_comm") == "relay-2");
    CHECK(labels.at("waker2_comm") == "relay-1");
    CHECK(labels.at("waker2_tid") == "301");
    CHECK(labels.at("waker3_context") == "hardirq");
    CHECK(labels.count("waker3_comm") == 0);  // an interrupt is no thread
}

TEST_CASE("pprof: an incomplete chain ends in \"--\" and why it ends there") {
    const Decoded decoded = encode(profile_of({relay_chain(2, wt::ChainEnd::depth_reached)}));
    const std::vector<std::string> names = decoded.names(decoded.proto.sample(0));
    REQUIRE(names.size() > 2);
    CHECK(names[names.size() - 2] == "--");
    CHECK(names.back() == wt::chain_end_marker(wt::ChainEnd::depth_reached));
    CHECK(decoded.labels(decoded.proto.sample(0)).at("chain_end") == "deeper wakers not traced");
}

TEST_CASE("pprof: functions inlined at an address are lines of one location, innermost first") {
    wt::WakeChain futex = futex_chain();
    wt::Frame inlined = frame_in("/usr/lib/libc.so.6", 0x7f0000001234, 0x1234, "__GI___libc_read");
    inlined.inlined = true;
    inlined.file = "read.c";
    inlined.line = 26;
    wt::Frame outer = frame_in("/usr/lib/libc.so.6", 0x7f0000001234, 0x1234, "read");
    outer.file = "syscall.S";
    outer.line = 12;
    futex.user_stack.frames = {inlined, outer, frame_in("/usr/bin/app", 0x55000000abcd, 0xabcd, "main")};
    const Decoded decoded = encode(profile_of({futex}));
    const auto& sample = decoded.proto.sample(0);
    const size_t user_at = futex.kernel_stack.frames.size();
    const auto names = decoded.names(sample);
    CHECK(names[user_at] == "__GI___libc_read+read");
    CHECK(names[user_at + 1] == "main");

    const wt::pprof::Location& location = decoded.location(sample.location_id(int(user_at)));
    CHECK(location.address() == 0x7f0000001234);
    REQUIRE(location.line_size() == 2);
    const wt::pprof::Function& inner = decoded.function(location.line(0).function_id());
    CHECK(decoded.text(inner.filename()) == "read.c");
    CHECK(location.line(0).line() == 26);
    CHECK(decoded.text(decoded.function(location.line(1).function_id()).filename()) == "syscall.S");
    CHECK(location.line(1).line() == 12);
    const wt::pprof::Mapping& libc = decoded.mapping(location.mapping_id());
    CHECK(libc.has_functions());
    CHECK(libc.has_filenames());
    CHECK(libc.has_line_numbers());
    CHECK(libc.has_inline_frames());
}

TEST_CASE("pprof: a mapped file's frames lead back to their file offsets; one mapping per load address") {
    wt::WakeChain first = futex_chain();
    first.user_stack.frames = {frame_in("/usr/lib/libx.so", 0x7f0000002200, 0x2200, "x_wait"),
                               frame_in("/usr/lib/libx.so", 0x7f0000001100, 0x1100, "x_loop")};
    wt::Frame unnamed = frame_in("/usr/lib/libx.so", 0x7f0000003300, 0x3300, "");
    first.user_stack.frames.push_back(unnamed);
    // The same library loaded elsewhere in another process.
    wt::WakeChain second = futex_chain();
    second.target.tgid = second.target.tid = 77;
    second.user_stack.frames = {frame_in("/usr/lib/libx.so", 0x7e0000002200, 0x2200, "x_wait")};
    wt::Frame kernel_frame;
    kernel_frame.address = 0xffffffff81000100;
    kernel_frame.module = "[kernel]";
    kernel_frame.symbol = "schedule";
    second.kernel_stack.frames = {kernel_frame};
    const Decoded decoded = encode(profile_of({first, second}));

    std::map<uint64_t, std::vector<const wt::pprof::Location*>> by_mapping;
    for (const auto& location : decoded.proto.location())
        by_mapping[location.mapping_id()].push_back(&location);
    const std::vector<std::pair<uint64_t, uint64_t>> expected_offsets = {{0x7f0000002200, 0x2200},
                                                                         {0x7f0000001100, 0x1100},
                                                                         {0x7f0000003300, 0x3300},
                                                                         {0x7e0000002200, 0x2200}};
    size_t checked = 0;
    for (const auto& mapping : decoded.proto.mapping()) {
        if (decoded.text(mapping.filename()) != "/usr/lib/libx.so")
            continue;
        CHECK(decoded.text(mapping.build_id()) == "0123456789abcdef");
        for (const wt::pprof::Location* location : by_mapping[mapping.id()]) {
            CHECK(location->address() >= mapping.memory_start());
            CHECK(location->address() < mapping.memory_limit());
            // How a symbolizer finds the frame in the file.
            const uint64_t offset = location->address() - mapping.memory_start() + mapping.file_offset();
            bool known = false;
            for (const auto& [address, file_offset] : expected_offsets)
                known = known || (address == location->address() && file_offset == offset);
            CHECK(known);
            ++checked;
        }
    }
    CHECK(checked == expected_offsets.size());
    // Two load addresses, two mappings; the unnamed frame keeps its
    // mapping from claiming to be resolved, and has no line.
    size_t libx_mappings = 0;
    for (const auto& mapping : decoded.proto.mapping()) {
        if (decoded.text(mapping.filename()) != "/usr/lib/libx.so")
            continue;
        ++libx_mappings;
        const bool has_unnamed = mapping.memory_limit() > 0x7f0000003300;
        CHECK(mapping.has_functions() == !has_unnamed);
    }
    CHECK(libx_mappings == 2);
    for (const auto& location : decoded.proto.location())
        if (location.address() == 0x7f0000003300)
            CHECK(location.line_size() == 0);

    // Kernel frames: a mapping by name, no file offset; builder frames
    // without a module: no mapping at all.
    bool kernel_seen = false;
    for (const auto& mapping : decoded.proto.mapping()) {
        if (decoded.text(mapping.filename()) != "[kernel]")
            continue;
        kernel_seen = true;
        CHECK(mapping.file_offset() == 0);
        CHECK(decoded.text(mapping.build_id()).empty());
        CHECK(mapping.memory_start() == 0xffffffff81000100);
    }
    CHECK(kernel_seen);
    CHECK(!by_mapping[0].empty());
}

TEST_CASE("pprof: what chains share is written once") {
    const Decoded decoded = encode(profile_of({futex_chain(), futex_chain(), relay_chain(2)}));
    const auto& proto = decoded.proto;
    REQUIRE(proto.sample_size() == 3);
    CHECK(std::vector<uint64_t>(proto.sample(0).location_id().begin(), proto.sample(0).location_id().end()) ==
          std::vector<uint64_t>(proto.sample(1).location_id().begin(), proto.sample(1).location_id().end()));
    std::map<std::string, int> strings;
    for (const std::string& text : proto.string_table())
        ++strings[text];
    for (const auto& [text, times] : strings) {
        INFO(text);
        CHECK(times == 1);
    }
    std::map<std::pair<int64_t, int64_t>, int> functions;
    for (const auto& function : proto.function())
        ++functions[{function.name(), function.filename()}];
    for (const auto& [function, times] : functions)
        CHECK(times == 1);
    // The "--" separator is one location, in every sample.
    uint64_t separator = 0;
    for (const auto& location : proto.location())
        if (location.line_size() == 1 &&
            decoded.text(decoded.function(location.line(0).function_id()).name()) == "--")
            separator = location.id();
    REQUIRE(separator != 0);
    for (const auto& sample : proto.sample()) {
        const auto& ids = sample.location_id();
        CHECK(std::find(ids.begin(), ids.end(), separator) != ids.end());
    }
}

TEST_CASE("pprof: a sampled profile says its values are estimates; an empty one is still a profile") {
    wt::Profile sampled = profile_of({futex_chain()});
    sampled.stack_sample_percent = 25;
    const Decoded decoded = encode(sampled);
    bool said = false;
    for (int64_t comment : decoded.proto.comment())
        said = said || decoded.text(comment).find("25%") != std::string::npos;
    CHECK(said);

    const Decoded empty = encode(wt::Profile{});
    CHECK(empty.proto.sample_size() == 0);
    CHECK(empty.proto.sample_type_size() == 4);
}
