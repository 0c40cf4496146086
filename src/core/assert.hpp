#pragma once
// CABLE_ASSERT checks an invariant in every build type: a broken invariant in a server is a bug
// we want to see at once (with file and line), not undefined behaviour later.
#include <cstdio>
#include <cstdlib>

#define CABLE_ASSERT(cond)                                                              \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
