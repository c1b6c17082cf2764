// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include "symbolize/symbol_table.hpp"

using waketrace::detail::FoundSymbol;
using waketrace::detail::SymbolTable;

TEST_CASE("symbol table lookups", "[symbol_table]") {
    SymbolTable table;
    table.add("second", 0x2000, 0x10);
    table.add("first", 0x1000, 0x100);
    table.add("label", 0x3000, 0);
    table.finish();
    REQUIRE(table.size() == 3);

    std::optional<FoundSymbol> found = table.lookup(0x1004);
    REQUIRE(found);
    CHECK(found->name == "first");
    CHECK(found->offset == 4);
    CHECK(table.lookup(0x2000)->name == "second");
    CHECK_FALSE(table.lookup(0x2010));             // past the sized symbol's end
    CHECK_FALSE(table.lookup(0xfff));              // below every symbol
    CHECK(table.lookup(0x3500)->offset == 0x500);  // size 0: up to the next symbol
}

TEST_CASE("symbol table keeps one alias per address", "[symbol_table]") {
    SymbolTable table;
    table.add("__printf_alias", 0x1000, 0x40);
    table.add("printf_label", 0x1000, 0);
    table.add("printf", 0x1000, 0x40);
    table.add("zz_tie", 0x2000, 8);
    table.add("aa_tie", 0x2000, 8);
    table.finish();
    CHECK(table.size() == 2);
    CHECK(table.lookup(0x1000)->name == "printf");  // sized, fewest underscores, shortest
    CHECK(table.lookup(0x2000)->name == "aa_tie");  // same in all but the name: alphabetical
}
