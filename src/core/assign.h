// INTERLOCK_ASSIGN(lhs, expression): evaluates `expression`, a Result<T>
// (core/status.h); on an error returns that error from the enclosing
// function, which must return a Result; otherwise moves the value into
// `lhs`. For readers that take many fields one after another.
#pragma once

#include <utility>

#define INTERLOCK_ASSIGN(lhs, expression)                  \
  do {                                                     \
    auto result_ = (expression);                           \
    if (!result_) return std::unexpected(result_.error()); \
    lhs = std::move(*result_);                             \
  } while (0)
