// SPDX-License-Identifier: LGPL-2.1-or-later
// The one Catch2 main every test binary links.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
