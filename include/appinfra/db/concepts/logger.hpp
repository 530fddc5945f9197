#pragma once
#include <appinfra/log/level.hpp>

#include <concepts>
#include <string_view>

namespace appinfra::db {

/// Logger policy.
/// Requirements: copyable; `l.enabled(level)` says whether a record at that level
/// is written; `l.write(level, message)` writes one record.
/// Laws: write() is only called when enabled() is true; both are thread-safe.
/// Models: log::Logger, log::NullLogger (enabled() is a constant false, so every
/// log statement costs nothing), log::SpdlogLogger (log/spdlog_logger.hpp).
template <class L>
concept Logger = std::copy_constructible<L> &&
                 requires(const L& l, log::Level level, std::string_view message) {
                   { l.enabled(level) } -> std::convertible_to<bool>;
                   l.write(level, message);
                 };

}  // namespace appinfra::db
