// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "symbolize/demangle.hpp"

using waketrace::detail::demangle;

TEST_CASE("C++ names demangle", "[demangle]") {
    CHECK(demangle("_ZN10symfixture5inner5twiceEi") == "symfixture::inner::twice(int)");
    CHECK(demangle("_ZNSt6vectorIiSaIiEE9push_backERKi") ==
          "std::vector<int, std::allocator<int> >::push_back(int const&)");
}

TEST_CASE("names that are not mangled stay as they are", "[demangle]") {
    CHECK(demangle("main") == "main");
    CHECK(demangle("") == "");
    CHECK(demangle("__libc_start_main") == "__libc_start_main");
    CHECK(demangle("_Z") == "_Z");  // rejected by the demangler
    CHECK(demangle("_Zno such thing") == "_Zno such thing");
}

TEST_CASE("legacy Rust names read as Rust paths", "[demangle]") {
    CHECK(demangle("_ZN4core3fmt5write17h0123456789abcdefE") == "core::fmt::write");
    CHECK(demangle("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h5f2b1a3c4d6e7f80E") ==
          "std::rt::lang_start::{{closure}}");
    CHECK(demangle("_ZN66_$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..drop..Drop$GT$"
                   "4drop17h00112233aabbccddE") == "<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop");
}

TEST_CASE("legacy Rust names read every $u..$ escape", "[demangle]") {
    // '!' (the never type) and '=' (in "Output = u8"): rustc writes any
    // character an identifier cannot hold as its code in hex.
    CHECK(demangle("_ZN40_$LT$$u21$$u20$as$u20$mycrate..Speak$GT$5speak17h0123456789abcdefE") ==
          "<! as mycrate::Speak>::speak");
    CHECK(demangle("_ZN7mycrate23Output$u20$$u3d$$u20$u817h0123456789abcdefE") == "mycrate::Output = u8");
}

TEST_CASE("a C++ name ending like a Rust hash keeps its last part", "[demangle]") {
    // Only names whose mangling ends in the hash segment lose it.
    CHECK(demangle("_ZN3foo17h0123456789abcdefEv") == "foo::h0123456789abcdef()");
}

TEST_CASE("legacy Rust names keep reading well after LTO renames them", "[demangle]") {
    CHECK(demangle("_ZN4core3fmt5write17h0123456789abcdefE.llvm.4711") == "core::fmt::write");
}

// Names below were mangled by rustc 1.x with -C symbol-mangling-version=v0.
TEST_CASE("Rust v0 names read as Rust paths, without crate hashes", "[demangle]") {
    CHECK(demangle("_RNvNtCs1234_10symfixture4rust2v0") == "symfixture::rust::v0");
    CHECK(demangle("_RNvNtCs1234_10symfixture4rust2v0.llvm.99") == "symfixture::rust::v0");
    // A closure, and a generic function with a const argument.
    CHECK(demangle("_RNCNvNtCsh537bOAIRKx_3lib3foo8closures0B5_") == "lib::foo::closures::{closure#0}");
    CHECK(demangle("_RINvNtCsh537bOAIRKx_3lib3foo7genericKj3_EB4_") == "lib::foo::generic::<3>");
    // Inherent and trait impls, with backrefs to the crate.
    CHECK(demangle("_RNvMNtCsh537bOAIRKx_3lib3fooINtB2_5ThinghE3getB4_") == "<lib::foo::Thing<u8>>::get");
    CHECK(demangle("_RNvXs_NtCsh537bOAIRKx_3lib3fooINtB4_5ThinghENtB4_5Speak5speak") ==
          "<lib::foo::Thing<u8> as lib::foo::Speak>::speak");
    // Generic arguments of a function: a type path holding a tuple and a reference.
    CHECK(demangle("_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeINtNtCslNYArtu3iFV_5alloc3vec3Vec"
                   "TlReEEECsh537bOAIRKx_3lib") ==
          "core::ptr::drop_in_place::<alloc::vec::Vec<(i32, &str)>>");
    // A shim of a closure's FnOnce impl: a one-element tuple and a special namespace.
    CHECK(demangle("_RNSNvYNCNvCsh537bOAIRKx_3lib5entry0INtNtNtCsgEmfK2I1SDS_4core3ops8function6"
                   "FnOnceThEE9call_once6vtableB8_") ==
          "<lib::entry::{closure#0} as core::ops::function::FnOnce<(u8,)>>::call_once::"
          "{shim:vtable#0}");
    // A function pointer type over any lifetime, named as rustc writes it.
    CHECK(demangle("_RINvCs1234_7mycrate3fooFG_RL0_hEuE") == "mycrate::foo::<for<'a> fn(&'a u8)>");
}

// Rust spells non-ASCII identifiers in punycode ("café": "caf-dma", with '_'
// for '-'), after a 'u'.
TEST_CASE("Rust v0 identifiers in punycode read as Unicode", "[demangle]") {
    CHECK(demangle("_RNvCs1234_7mycrateu7caf_dma") == "mycrate::caf\u00e9");
    CHECK(demangle("_RNvCs_u9gre_6ka8i3foo") == "gr\u00f6\u00dfe::foo");
}

TEST_CASE("names that only look like Rust v0 stay as they are", "[demangle]") {
    CHECK(demangle("_R") == "_R");
    CHECK(demangle("_Resume") == "_Resume");
    CHECK(demangle("_RNvCs1234_7mycrate") == "_RNvCs1234_7mycrate");  // identifier missing
    CHECK(demangle("_RNvB0_3foo") == "_RNvB0_3foo");                  // backref to itself
    // Valid v0, but read as nothing: an empty name would mean "unresolved".
    CHECK(demangle("_RC0") == "_RC0");
}

TEST_CASE("a Rust v0 name that expands without end stays as it is", "[demangle]") {
    // Found by the fuzzer: each 'F' nests the back-reference "B_" once more,
    // and libiberty ran for minutes into gigabytes. Its binder ("GFFF2N_")
    // declares billions of lifetimes: the name is shown mangled.
    const std::string endless = "_RNvXs_NtCsh_5Speak5foo" + std::string(105, 'F') + "GFFF2NB_";
    CHECK(demangle(endless) == endless);
    // The demangler is still fine afterwards.
    CHECK(demangle("_ZN10symfixture5inner5twiceEi") == "symfixture::inner::twice(int)");
}

TEST_CASE("a Rust v0 binder inside a part libiberty leaves out does not hang it", "[demangle]") {
    // Found by the fuzzer: the same binder inside an impl's own path, which
    // libiberty reads without printing, so nothing stopped its loop over
    // the lifetimes. Such a name is no name: it stays as it is.
    const std::string silent = "_RXXNvXs_NtCsh_5Speak5foo" + std::string(105, 'F') + "GFFF2NB_";
    CHECK(demangle(silent) == silent);
    // A binder of a few lifetimes reads as before, also there.
    CHECK(demangle("_RINvCs1234_7mycrate3fooFG0_RL1_RL0_hEuE") ==
          "mycrate::foo::<for<'a, 'b> fn(&'a &'b u8)>");
}

namespace {

// Base-62 with a '_' after, as v0 back-references and binders write numbers
// ("_" is 0).
std::string base_62(size_t value) {
    if (value == 0)
        return "_";
    static constexpr std::string_view digits =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string text;
    for (size_t rest = value - 1;; rest /= 62) {
        text.insert(text.begin(), digits[rest % 62]);
        if (rest < 62)
            break;
    }
    return text + "_";
}

}  // namespace

TEST_CASE("a well-formed Rust v0 name that doubles at each level is cut at 1 MiB", "[demangle]") {
    // A generic argument: a pair of u8, then 40 times a pair of the type
    // before it (back-references): 2^40 u8s written out. libiberty prints
    // as it goes, and is stopped at the limit; the name stays mangled.
    std::string mangled = "_RINvC1a1f";
    size_t previous = mangled.size() - 2;  // offsets count from after "_R"
    mangled += "ThhE";
    for (int level = 0; level < 40; ++level) {
        const size_t here = mangled.size() - 2;
        mangled += "TB" + base_62(previous) + "B" + base_62(previous) + "E";
        previous = here;
    }
    mangled += "E";
    CHECK(demangle(mangled) == mangled);
    // Two levels read in full.
    CHECK(demangle("_RINvC1a1fTThhEB8_EE") == "a::f::<((u8, u8), (u8, u8))>");
}
