// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/demangle.hpp"

#include <cxxabi.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <utility>

#include "symbolize/rust_v0_demangle.hpp"

namespace waketrace::detail {

namespace {

struct FreeDeleter {
    void operator()(char* pointer) const noexcept { std::free(pointer); }
};

constexpr size_t rust_hash_digits = 16;

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool all_hex(std::string_view text) {
    for (char c : text) {
        if (!is_hex_digit(c))
            return false;
    }
    return true;
}

// rustc's legacy scheme ends every path with a hash segment "17h<16 hex>E".
bool is_legacy_rust(std::string_view mangled) {
    constexpr std::string_view marker = "17h";
    constexpr size_t tail = marker.size() + rust_hash_digits + 1;
    if (mangled.size() < tail || mangled.back() != 'E')
        return false;
    std::string_view hash = mangled.substr(mangled.size() - tail, tail - 1);
    return hash.substr(0, marker.size()) == marker && all_hex(hash.substr(marker.size()));
}

// Legacy Rust spells characters C++ identifiers cannot hold as $-escapes and
// "::" inside generic arguments as "..".
constexpr std::array<std::pair<std::string_view, char>, 17> rust_escapes{{
    {"$SP$", '@'}, {"$BP$", '*'}, {"$RF$", '&'}, {"$LT$", '<'}, {"$GT$", '>'},
    {"$LP$", '('}, {"$RP$", ')'}, {"$C$", ','}, {"$u7e$", '~'}, {"$u20$", ' '},
    {"$u27$", '\''}, {"$u5b$", '['}, {"$u5d$", ']'}, {"$u7b$", '{'}, {"$u7d$", '}'},
    {"$u3b$", ';'}, {"$u2b$", '+'},
}};

// Escapes start a path segment as "_$...": the underscore only keeps the
// identifier legal and is dropped.
bool starts_escaped_segment(std::string_view path, size_t at) {
    return path.compare(at, 2, "_$") == 0 && (at == 0 || path[at - 1] == ':');
}

std::string unescape_rust(std::string_view path) {
    std::string readable;
    readable.reserve(path.size());
    for (size_t at = 0; at < path.size();) {
        if (starts_escaped_segment(path, at)) {
            ++at;
            continue;
        }
        if (path.compare(at, 2, "..") == 0) {
            readable += "::";
            at += 2;
            continue;
        }
        bool replaced = false;
        for (const auto& [escape, character] : rust_escapes) {
            if (path.compare(at, escape.size(), escape) == 0) {
                readable += character;
                at += escape.size();
                replaced = true;
                break;
            }
        }
        if (!replaced)
            readable += path[at++];
    }
    return readable;
}

std::string strip_rust_hash(std::string demangled) {
    constexpr std::string_view separator = "::h";
    size_t hash_length = separator.size() + rust_hash_digits;
    if (demangled.size() > hash_length &&
        demangled.compare(demangled.size() - hash_length, separator.size(), separator) == 0)
        demangled.resize(demangled.size() - hash_length);
    return demangled;
}

// rustc's LTO renames local symbols "NAME.llvm.DIGITS": the suffix hides the
// hash at the end of a legacy name, and means nothing to a reader.
std::string_view without_llvm_suffix(std::string_view name) {
    size_t suffix = name.find(".llvm.");
    return suffix == std::string_view::npos ? name : name.substr(0, suffix);
}

}  // namespace

std::string demangle(std::string_view name) {
    if (name.substr(0, 2) == "_R")
        return demangle_rust_v0(name).value_or(std::string(name));
    if (name.substr(0, 2) != "_Z")
        return std::string(name);
    std::string_view rust_name = without_llvm_suffix(name);
    bool legacy_rust = is_legacy_rust(rust_name);
    // __cxa_demangle wants a NUL-terminated string
    std::string mangled(legacy_rust ? rust_name : name);
    int status = 0;
    std::unique_ptr<char, FreeDeleter> demangled(
        abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status));
    if (status != 0 || !demangled)
        return std::string(name);
    if (legacy_rust)
        return unescape_rust(strip_rust_hash(demangled.get()));
    return demangled.get();
}

}  // namespace waketrace::detail
