#pragma once
// Formats a record only when its logger would write it.

#include <appinfra/db/concepts/logger.hpp>

#include <fmt/format.h>

#include <utility>

namespace appinfra::db::detail {

template <Logger L, class... Args>
void log(const L& lg, log::Level level, fmt::format_string<Args...> f, Args&&... args) {
  if (lg.enabled(level)) lg.write(level, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace appinfra::db::detail
