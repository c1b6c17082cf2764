// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/demangle.hpp"

#include "symbolize/rust_v0_shape.hpp"

#include <csetjmp>
#include <exception>
#include <string>
#include <utility>

// Last: it brings libiberty.h, whose macros (XNEW...) must not reach other
// headers. Told that the C library declares basename(), libiberty.h does not
// declare its own, which clashes with glibc's C++ overloads in <string.h>.
#define HAVE_DECL_BASENAME 1
#include <libiberty/demangle.h>

namespace waketrace::detail {

namespace {

// Parameter lists and qualifiers, as GDB prints names (and __cxa_demangle
// did). Without DMGL_VERBOSE (c++filt's default), libiberty leaves out what a
// reader does not need: legacy Rust hashes, v0 crate disambiguators, and the
// spelled-out templates behind C++'s std::string and friends.
constexpr int demangle_options = DMGL_PARAMS | DMGL_ANSI;

// A readable name longer than this is not shown: it is no name a person
// reads. libiberty's Rust demangler can expand a short v0 name without end
// (nested back-references: the fuzzer found 136 bytes that ran for minutes
// into gigabytes), so it is stopped there, not merely cut. (Its one endless
// loop that prints nothing is kept out before: rust_v0_shape.hpp.)
constexpr size_t kMaxReadableBytes = 1 << 20;

// libiberty hands the readable name over in pieces. Appending can throw, and
// an exception must not unwind through libiberty's C frames: it is kept and
// rethrown once libiberty has returned.
struct Readable {
    std::string text;
    std::exception_ptr failure;
    std::jmp_buf* too_long = nullptr;  // where to leave libiberty for a name past the limit
};

void append_piece(const char* piece, size_t length, void* opaque) noexcept {
    auto* readable = static_cast<Readable*>(opaque);
    if (readable->failure)
        return;
    if (readable->text.size() + length > kMaxReadableBytes)
        std::longjmp(*readable->too_long, 1);
    try {
        readable->text.append(piece, length);
    } catch (...) {
        readable->failure = std::current_exception();
    }
}

using Demangler = int (*)(const char*, int, demangle_callbackref, void*);

// One of libiberty's callback demanglers, left early (as "not a name") when
// the name grows past kMaxReadableBytes. The jump crosses only libiberty's C
// frames and append_piece(): in callback mode libiberty keeps its state on
// the stack and allocates nothing, and no C++ object is alive in between.
int demangle_bounded(Demangler demangler, const char* mangled, Readable& readable) {
    std::jmp_buf too_long;
    readable.too_long = &too_long;
    if (setjmp(too_long) != 0)
        return 0;
    return demangler(mangled, demangle_options, append_piece, &readable);
}

}  // namespace

std::string demangle(std::string_view name) {
    // Every scheme libiberty reads here starts with '_' ("_Z", "_ZN...17h<hash>E",
    // "_R"); other names skip the copy below.
    if (name.empty() || name.front() != '_')
        return std::string(name);
    std::string mangled(name);  // libiberty wants a NUL-terminated string
    // A v0 name libiberty would reject, or could read for ever, is left as
    // it is (rust_v0_shape.hpp).
    if (name.substr(0, 2) == "_R" && !rust_v0_well_formed(name))
        return mangled;
    Readable readable;
    // Legacy Rust names are valid Itanium C++ names too, so Rust is asked
    // first. It takes "_ZN" names only when they end in a hash segment (an LTO
    // ".llvm.NNN" suffix after it is dropped), and partial output of a name it
    // rejects is thrown away.
    int demangled = demangle_bounded(rust_demangle_callback, mangled.c_str(), readable);
    if (!demangled) {
        readable = Readable{};
        demangled = demangle_bounded(cplus_demangle_v3_callback, mangled.c_str(), readable);
    }
    if (readable.failure)
        std::rethrow_exception(readable.failure);
    // A valid name can read as nothing (v0 "_RC0": an empty crate name); an
    // empty symbol would make its frame look unresolved.
    if (!demangled || readable.text.empty())
        return mangled;
    return std::move(readable.text);
}

}  // namespace waketrace::detail
