// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/rust_v0_shape.hpp"

#include <cstddef>
#include <cstdint>

namespace waketrace::detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// The v0 grammar, one function per production, as libiberty's reader has
// it (rust-demangle.c): it consumes the same characters in the same order.
// Back-references are read as numbers and not followed: where libiberty
// follows one it is printing, and what it prints is capped.
class V0Walker {
public:
    explicit V0Walker(std::string_view symbol) : symbol_(symbol) {}

    bool whole_symbol() {
        path();
        if (ok_ && pos_ < symbol_.size())
            path();  // the instantiating crate
        return ok_ && pos_ == symbol_.size();
    }

private:
    // libiberty's own limit on nested paths and types; ours keeps this
    // walker's stack bounded too.
    static constexpr int kMaxDepth = 1024;

    char peek() const { return pos_ < symbol_.size() ? symbol_[pos_] : '\0'; }
    bool eat(char c) {
        if (peek() != c)
            return false;
        ++pos_;
        return true;
    }
    char next() {
        const char c = peek();
        if (c == '\0')
            ok_ = false;
        else
            ++pos_;
        return c;
    }

    // "_" is 0; otherwise base-62 digits, then "_", for the value + 1.
    uint64_t integer_62() {
        if (eat('_'))
            return 0;
        uint64_t value = 0;
        while (ok_ && !eat('_')) {
            const char c = next();
            uint64_t digit;
            if (is_digit(c))
                digit = uint64_t(c - '0');
            else if (is_lower(c))
                digit = 10 + uint64_t(c - 'a');
            else if (is_upper(c))
                digit = 36 + uint64_t(c - 'A');
            else
                return fail();
            if (value > (UINT64_MAX - digit) / 62)
                return fail();
            value = value * 62 + digit;
        }
        return ok_ ? value + 1 : 0;
    }
    uint64_t optional_integer_62(char tag) { return eat(tag) ? 1 + integer_62() : 0; }
    void disambiguator() { optional_integer_62('s'); }

    // ["u"] decimal length ["_"] bytes
    void identifier() {
        eat('u');
        const char first = next();
        if (!is_digit(first)) {
            fail();
            return;
        }
        size_t length = size_t(first - '0');
        if (first != '0')
            while (is_digit(peek())) {
                if (length > symbol_.size())
                    break;  // too long for the name either way
                length = length * 10 + size_t(next() - '0');
            }
        eat('_');
        if (length > symbol_.size() - pos_)
            fail();
        else
            pos_ += length;
    }

    void hex_nibbles() {
        while (ok_ && !eat('_')) {
            const char c = next();
            if (!is_digit(c) && !(c >= 'a' && c <= 'f'))
                fail();
        }
    }

    // "G" base-62: the number of lifetimes it declares, each a turn of
    // libiberty's loop. More than the name is long is no real name.
    void binder() {
        if (eat('G') && integer_62() + 1 > symbol_.size())
            fail();
    }

    bool enter() {
        if (!ok_ || ++depth_ > kMaxDepth)
            return fail(), false;
        return true;
    }
    void leave() { --depth_; }

    void path() {
        if (!enter())
            return;
        switch (const char tag = next()) {
        case 'C':
            disambiguator();
            identifier();
            break;
        case 'N':
            if (const char ns = next(); !is_lower(ns) && !is_upper(ns)) {
                fail();
                break;
            }
            path();
            disambiguator();
            identifier();
            break;
        case 'M':
        case 'X':
            disambiguator();
            path();  // the impl's own path, which libiberty does not print
            [[fallthrough]];
        case 'Y':
            type();
            if (tag != 'M')
                path();
            break;
        case 'I':
            path();
            while (ok_ && !eat('E'))
                generic_arg();
            break;
        case 'B': integer_62(); break;
        default: fail();
        }
        leave();
    }

    void generic_arg() {
        if (eat('L'))
            integer_62();
        else if (eat('K'))
            constant();
        else
            type();
    }

    // The tags of types with no more to them: bool, char, str, (), the
    // integers and floats, !, _ and ... .
    static bool is_basic_type(char tag) { return tag != '\0' && kBasicTypes.find(tag) != kBasicTypes.npos; }
    static constexpr std::string_view kBasicTypes = "bceualsxnihtmyojfdzpv";
    static constexpr std::string_view kSignedTypes = "alsxni";
    static constexpr std::string_view kOtherConstTypes = "htmyojbc";  // unsigned, bool, char

    void type() {
        if (!ok_)
            return;
        const char tag = next();
        if (is_basic_type(tag) || !enter())
            return;
        switch (tag) {
        case 'R':
        case 'Q':
            if (eat('L'))
                integer_62();
            type();
            break;
        case 'P':
        case 'O':
        case 'S': type(); break;
        case 'A':
            type();
            constant();
            break;
        case 'T':
            while (ok_ && !eat('E'))
                type();
            break;
        case 'F':
            binder();
            eat('U');
            if (eat('K') && !eat('C'))
                identifier();  // the ABI
            while (ok_ && !eat('E'))
                type();
            if (!eat('u'))
                type();  // the return type
            break;
        case 'D':
            binder();
            while (ok_ && !eat('E'))
                dyn_trait();
            if (!eat('L'))
                fail();
            integer_62();
            break;
        case 'B': integer_62(); break;
        default:
            --pos_;  // a path, which reads the tag again
            path();
        }
        leave();
    }

    void dyn_trait() {
        if (eat('B')) {
            integer_62();
        } else if (eat('I')) {
            path();
            while (ok_ && !eat('E'))
                generic_arg();
        } else {
            path();
        }
        while (ok_ && eat('p')) {
            identifier();
            type();
        }
    }

    void constant() {
        if (!ok_)
            return;
        if (eat('B')) {
            integer_62();
            return;
        }
        const char tag = next();
        if (tag == 'p')
            return;  // a placeholder
        if (tag != '\0' && kSignedTypes.find(tag) != kSignedTypes.npos)
            eat('n');  // negative
        else if (tag == '\0' || kOtherConstTypes.find(tag) == kOtherConstTypes.npos)
            fail();
        hex_nibbles();
    }

    uint64_t fail() {
        ok_ = false;
        return 0;
    }

    std::string_view symbol_;
    size_t pos_ = 0;
    int depth_ = 0;
    bool ok_ = true;
};

}  // namespace

bool rust_v0_well_formed(std::string_view mangled) {
    if (mangled.substr(0, 2) != "_R")
        return false;
    std::string_view symbol = mangled.substr(2);
    symbol = symbol.substr(0, symbol.find('.'));  // a suffix libiberty ignores
    return V0Walker(symbol).whole_symbol();
}

}  // namespace waketrace::detail
