// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The grammar is the one of rustc's RFC 2603 ("Rust Symbol Name Mangling
// v0"); the comment above each parse function quotes the production it reads.
#include "symbolize/rust_v0_demangle.hpp"

#include <cstdint>

#include <fmt/format.h>

namespace waketrace::detail {

namespace {

// Names are attacker-shaped data (any file may hold any symbol): recursion
// is bounded, and backrefs may only point backwards.
constexpr int max_depth = 100;

struct Invalid {};  // thrown inside the parser only, caught by demangle_rust_v0

std::string_view basic_type(char tag) {
    switch (tag) {
    case 'a': return "i8";
    case 'b': return "bool";
    case 'c': return "char";
    case 'd': return "f64";
    case 'e': return "str";
    case 'f': return "f32";
    case 'h': return "u8";
    case 'i': return "isize";
    case 'j': return "usize";
    case 'l': return "i32";
    case 'm': return "u32";
    case 'n': return "i128";
    case 'o': return "u128";
    case 'p': return "_";
    case 's': return "i16";
    case 't': return "u16";
    case 'u': return "()";
    case 'v': return "...";
    case 'x': return "i64";
    case 'y': return "u64";
    case 'z': return "!";
    default: return {};
    }
}

class Parser {
public:
    explicit Parser(std::string_view input) : input_(input) {}

    std::string symbol() {
        // <symbol-name> = "_R" [<decimal-number>] <path> [<instantiating-crate>]
        if (peek() >= '0' && peek() <= '9')
            decimal();
        path(true);
        // The instantiating crate and vendor suffixes (".llvm.123") add
        // nothing a reader needs.
        return std::move(out_);
    }

private:
    char peek() const { return at_ < input_.size() ? input_[at_] : '\0'; }
    char next() {
        if (at_ >= input_.size())
            throw Invalid{};
        return input_[at_++];
    }
    bool eat(char c) {
        if (peek() != c)
            return false;
        ++at_;
        return true;
    }
    void print(std::string_view text) {
        if (quiet_ == 0)
            out_ += text;
    }

    // <base-62-number> = {<0-9a-zA-Z>} "_"; "_" is 0, "N_" is N + 1.
    uint64_t base62() {
        if (eat('_'))
            return 0;
        uint64_t value = 0;
        for (char c = next(); c != '_'; c = next()) {
            uint64_t digit;
            if (c >= '0' && c <= '9')
                digit = static_cast<uint64_t>(c - '0');
            else if (c >= 'a' && c <= 'z')
                digit = static_cast<uint64_t>(c - 'a') + 10;
            else if (c >= 'A' && c <= 'Z')
                digit = static_cast<uint64_t>(c - 'A') + 36;
            else
                throw Invalid{};
            if (value > (UINT64_MAX - digit) / 62)
                throw Invalid{};
            value = value * 62 + digit;
        }
        return value + 1;
    }

    // <decimal-number> = "0" | <[1-9]> {<[0-9]>}
    uint64_t decimal() {
        char first = next();
        if (first < '0' || first > '9')
            throw Invalid{};
        uint64_t value = static_cast<uint64_t>(first - '0');
        while (first != '0' && peek() >= '0' && peek() <= '9') {
            if (value > UINT64_MAX / 10 - 1)
                throw Invalid{};
            value = value * 10 + static_cast<uint64_t>(next() - '0');
        }
        return value;
    }

    // <disambiguator> = "s" <base-62-number>
    uint64_t disambiguator() { return eat('s') ? base62() + 1 : 0; }

    // <undisambiguated-identifier> = ["u"] <decimal-number> ["_"] <bytes>
    std::string_view undisambiguated_identifier() {
        if (peek() == 'u')
            throw Invalid{};  // punycode: not decoded here
        uint64_t length = decimal();
        eat('_');
        if (length > input_.size() - at_)
            throw Invalid{};
        std::string_view name = input_.substr(at_, length);
        at_ += length;
        return name;
    }

    struct Identifier {
        uint64_t disambiguator;
        std::string_view name;
    };
    // <identifier> = [<disambiguator>] <undisambiguated-identifier>
    Identifier identifier() {
        uint64_t number = disambiguator();
        return {number, undisambiguated_identifier()};
    }

    // Guards recursion depth and backref jumps.
    class Nested {
    public:
        explicit Nested(Parser& parser) : parser_(parser) {
            if (++parser_.depth_ > max_depth)
                throw Invalid{};
        }
        ~Nested() { --parser_.depth_; }
        Nested(const Nested&) = delete;
        Nested& operator=(const Nested&) = delete;

    private:
        Parser& parser_;
    };

    // <backref> = "B" <base-62-number>, an offset from just after "_R".
    template <typename Print>
    void backref(Print print_target) {
        size_t start = at_ - 1;  // the 'B'
        uint64_t target = base62();
        if (target >= start)
            throw Invalid{};
        size_t resume = at_;
        at_ = static_cast<size_t>(target);
        print_target();
        at_ = resume;
    }

    void path(bool in_value) {
        Nested nested(*this);
        char tag = next();
        switch (tag) {
        case 'C':  // "C" <identifier>: a crate root
            print(identifier().name);
            break;
        case 'N':  // "N" <namespace> <path> <identifier>
            nested_path(in_value);
            break;
        case 'M':  // "M" <impl-path> <type>: <T>
            impl_path();
            print("<");
            type();
            print(">");
            break;
        case 'X':  // "X" <impl-path> <type> <path>: <T as Trait>
            impl_path();
            trait_impl();
            break;
        case 'Y':  // "Y" <type> <path>: <T as Trait>
            trait_impl();
            break;
        case 'I':  // "I" <path> {<generic-arg>} "E"
            path(in_value);
            if (in_value)
                print("::");
            generic_args();
            break;
        case 'B':
            backref([&] { path(in_value); });
            break;
        default:
            throw Invalid{};
        }
    }

    void nested_path(bool in_value) {
        char name_space = next();
        if (!((name_space >= 'a' && name_space <= 'z') || (name_space >= 'A' && name_space <= 'Z')))
            throw Invalid{};
        path(in_value);
        Identifier name = identifier();
        if (name_space >= 'a' && name_space <= 'z') {
            // Internal namespaces print as plain path segments.
            if (!name.name.empty()) {
                print("::");
                print(name.name);
            }
            return;
        }
        // Special namespaces: C closures, S shims, others by their letter.
        std::string_view kind = name_space == 'C'   ? "closure"
                                : name_space == 'S' ? "shim"
                                                    : std::string_view(&name_space, 1);
        print("::{");
        print(kind);
        if (!name.name.empty()) {
            print(":");
            print(name.name);
        }
        print(fmt::format("#{}}}", name.disambiguator));
    }

    // <impl-path> = [<disambiguator>] <path>: where the impl is, not printed.
    void impl_path() {
        disambiguator();
        ++quiet_;
        path(false);
        --quiet_;
    }

    void trait_impl() {
        print("<");
        type();
        print(" as ");
        path(false);
        print(">");
    }

    // "<" {<generic-arg>} ">" up to and including the closing "E".
    void generic_args() {
        print("<");
        for (bool first = true; !eat('E'); first = false) {
            if (!first)
                print(", ");
            generic_arg();
        }
        print(">");
    }

    // <generic-arg> = <lifetime> | <type> | "K" <const>
    void generic_arg() {
        if (eat('L')) {
            base62();
            print("'_");
        } else if (eat('K')) {
            constant();
        } else {
            type();
        }
    }

    void type() {
        Nested nested(*this);
        std::string_view basic = basic_type(peek());
        if (!basic.empty()) {
            ++at_;
            print(basic);
            return;
        }
        switch (peek()) {
        case 'A':  // "A" <type> <const>: [T; N]
            ++at_;
            print("[");
            type();
            print("; ");
            constant();
            print("]");
            return;
        case 'S':  // "S" <type>: [T]
            ++at_;
            print("[");
            type();
            print("]");
            return;
        case 'T':  // "T" {<type>} "E": a tuple
            ++at_;
            tuple();
            return;
        case 'R':  // "R" [<lifetime>] <type>: &T
        case 'Q':  // "Q" [<lifetime>] <type>: &mut T
            print(next() == 'R' ? "&" : "&mut ");
            if (eat('L'))
                base62();
            type();
            return;
        case 'P':  // "P" <type>: *const T
        case 'O':  // "O" <type>: *mut T
            print(next() == 'P' ? "*const " : "*mut ");
            type();
            return;
        case 'F':
            ++at_;
            function_signature();
            return;
        case 'D':
            ++at_;
            dyn_bounds();
            return;
        case 'B':
            ++at_;
            backref([&] { type(); });
            return;
        default:
            path(false);
        }
    }

    void tuple() {
        print("(");
        size_t count = 0;
        for (; !eat('E'); ++count) {
            if (count > 0)
                print(", ");
            type();
        }
        print(count == 1 ? ",)" : ")");
    }

    // <fn-sig> = [<binder>] ["U"] ["K" <abi>] {<type>} "E" <type>
    void function_signature() {
        if (eat('G'))
            base62();
        if (eat('U'))
            print("unsafe ");
        if (eat('K')) {
            print("extern \"");
            print(eat('C') ? std::string_view("C") : undisambiguated_identifier());
            print("\" ");
        }
        print("fn(");
        for (bool first = true; !eat('E'); first = false) {
            if (!first)
                print(", ");
            type();
        }
        print(")");
        if (eat('u'))
            return;  // returns (): not spelled out
        print(" -> ");
        type();
    }

    // <dyn-bounds> = [<binder>] {<dyn-trait>} "E", then the object lifetime.
    void dyn_bounds() {
        if (eat('G'))
            base62();
        print("dyn ");
        for (bool first = true; !eat('E'); first = false) {
            if (!first)
                print(" + ");
            dyn_trait();
        }
        if (!eat('L'))
            throw Invalid{};
        base62();
    }

    // <dyn-trait> = <path> {"p" <undisambiguated-identifier> <type>}
    void dyn_trait() {
        path(false);
        if (peek() != 'p')
            return;
        // The path printed "Trait<args>" or "Trait": bindings join the list.
        bool had_args = !out_.empty() && out_.back() == '>' && quiet_ == 0;
        if (had_args) {
            out_.pop_back();
            print(", ");
        } else {
            print("<");
        }
        for (bool first = true; eat('p'); first = false) {
            if (!first)
                print(", ");
            print(undisambiguated_identifier());
            print(" = ");
            type();
        }
        print(">");
    }

    // <const> = <type> <const-data> | "p" | <backref>, for integers, bool
    // and char; <const-data> = ["n"] {<hex-digit>} "_".
    void constant() {
        Nested nested(*this);
        if (eat('p')) {
            print("_");
            return;
        }
        if (eat('B')) {
            backref([&] { constant(); });
            return;
        }
        char tag = next();
        bool negative = eat('n');
        uint64_t value = 0;
        size_t digits = 0;
        for (char c = next(); c != '_'; c = next(), ++digits) {
            int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (digit < 0 || digits >= 16)
                throw Invalid{};
            value = value * 16 + static_cast<uint64_t>(digit);
        }
        switch (tag) {
        case 'b':
            if (value > 1)
                throw Invalid{};
            print(value ? "true" : "false");
            return;
        case 'a': case 'h': case 'i': case 'j': case 'l': case 'm': case 'n':
        case 'o': case 's': case 't': case 'x': case 'y':
            print(fmt::format("{}{}", negative ? "-" : "", value));
            return;
        case 'c':
            print(fmt::format("'\\u{{{:x}}}'", value));
            return;
        default:
            throw Invalid{};  // structured constants: not read here
        }
    }

    std::string_view input_;
    size_t at_ = 0;
    std::string out_;
    int quiet_ = 0;
    int depth_ = 0;
};

}  // namespace

std::optional<std::string> demangle_rust_v0(std::string_view mangled) {
    constexpr std::string_view prefix = "_R";
    if (mangled.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    try {
        std::string readable = Parser(mangled.substr(prefix.size())).symbol();
        // Identifiers may be empty ("_RC0"): a name that reads as nothing
        // would make its frame look unresolved, so the mangled name stays.
        if (readable.empty())
            return std::nullopt;
        return readable;
    } catch (const Invalid&) {
        return std::nullopt;
    }
}

}  // namespace waketrace::detail
