// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

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
    CHECK(demangle("_Z") == "_Z");                      // rejected by the demangler
    CHECK(demangle("_Zno such thing") == "_Zno such thing");
}

TEST_CASE("legacy Rust names read as Rust paths", "[demangle]") {
    CHECK(demangle("_ZN4core3fmt5write17h0123456789abcdefE") == "core::fmt::write");
    CHECK(demangle("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h5f2b1a3c4d6e7f80E") ==
          "std::rt::lang_start::{{closure}}");
    CHECK(demangle("_ZN66_$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..drop..Drop$GT$"
                   "4drop17h00112233aabbccddE") ==
          "<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop");
}

TEST_CASE("a C++ name ending like a Rust hash keeps its last part", "[demangle]") {
    // Only names whose mangling ends in the hash segment lose it.
    CHECK(demangle("_ZN3foo17h0123456789abcdefEv") == "foo::h0123456789abcdef()");
}
